#!/usr/bin/env bash
# Records a commit the deploy workflow made (the digest staging runs, a rollback) on main, so git
# says what runs where. A fast-forward when main has not moved; otherwise a merge of it into
# main carrying its message (with its [skip ci]: the job that made the commit applies it, no
# push workflow must start for it). Retries when main moves under it.
#   GH_TOKEN=<app token> bash infra/scripts/record-on-main.sh <commit>
set -euo pipefail
commit="${1:?usage: record-on-main.sh <commit>}"
remote="${RECORD_REMOTE:-https://x-access-token:${GH_TOKEN:?}@github.com/${GITHUB_REPOSITORY:?}.git}"
message="$(git log -1 --format=%B "$commit")"
for attempt in 1 2 3 4 5; do
  git fetch --quiet "$remote" main
  if git merge-base --is-ancestor FETCH_HEAD "$commit"; then
    target="$commit"
  else
    git checkout --quiet --detach FETCH_HEAD
    git merge --quiet --no-ff --no-edit -m "$message" "$commit"
    target="$(git rev-parse HEAD)"
  fi
  if git push --quiet "$remote" "$target:refs/heads/main"; then
    echo "recorded=$target"
    exit 0
  fi
  echo "main moved while recording (attempt $attempt); again" >&2
done
echo "could not record $commit on main" >&2
exit 1
