// Runbooks that belong to no alert: procedures on-call follows. The consistency test requires
// every file in runbooks/procedures/ to be listed here and every entry to have its file.
export const procedures = [
  { id: 'maintenance-window', title: 'Silence alerts for planned maintenance' },
  { id: 'replay-dead-letters', title: 'Replay dead-lettered ingestion jobs' },
] as const;
