import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// The log lines the service can write, read from its source (by path: runbooks import no app
// code): every `logger.<level>(message, { fields })` and `logger.log(level, message, { fields })`
// call (not `console.*`), with the levels it can log at. A runbook's `grep '"field":...'` is
// checked against this.

export const winstonLevels = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'];

export interface LogLine {
  readonly message: string;
  /** A template literal message (`ingest ${type}`): only its literal head is known. */
  readonly headOnly?: boolean;
  readonly fields: ReadonlySet<string>;
  readonly levels: ReadonlySet<string>;
}

export interface LogSchema {
  /** Fields every line carries: winston's own and the logger's defaults and correlation ids. */
  readonly commonFields: ReadonlySet<string>;
  readonly lines: readonly LogLine[];
}

// Written by createLogger's formats (app/src/observability/logger.ts): timestamp(), correlate(),
// defaultMeta, and winston's level and message.
const loggerFields = ['level', 'message', 'timestamp', 'service', 'requestId', 'traceId'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function objectKeys(node: ts.Expression, file: ts.SourceFile): string[] {
  if (!ts.isObjectLiteralExpression(node)) return [];
  return node.properties.flatMap((p) => {
    if (ts.isSpreadAssignment(p) && ts.isIdentifier(p.expression)) {
      return objectKeys(initializerOf(p.expression.text, file) ?? p.expression, file);
    }
    const name = p.name;
    return name && (ts.isIdentifier(name) || ts.isStringLiteral(name)) ? [name.text] : [];
  });
}

function initializerOf(name: string, file: ts.SourceFile): ts.Expression | undefined {
  let found: ts.Expression | undefined;
  const visit = (node: ts.Node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name) {
      found ??= node.initializer;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** The levels an expression can evaluate to: its literal level names (a ternary lists them all). */
function levelsOf(node: ts.Expression, file: ts.SourceFile): string[] {
  const expr = ts.isIdentifier(node) ? (initializerOf(node.text, file) ?? node) : node;
  const levels = new Set<string>();
  const visit = (n: ts.Node) => {
    if (ts.isStringLiteral(n) && winstonLevels.includes(n.text)) levels.add(n.text);
    ts.forEachChild(n, visit);
  };
  visit(expr);
  return [...levels];
}

export function logSchema(appSourceDir: string): LogSchema {
  const lines: LogLine[] = [];
  for (const p of sourceFiles(appSourceDir)) {
    const file = ts.createSourceFile(p, readFileSync(p, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      // `console.error(...)` (the CLIs' output) writes no JSON log line: only loggers count, or a
      // console call's template message with an empty head would match every grep.
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        !(
          ts.isIdentifier(node.expression.expression) &&
          node.expression.expression.text === 'console'
        )
      ) {
        const method = node.expression.name.text;
        const args = node.arguments;
        let levels: string[] = [];
        let rest: readonly ts.Expression[] = [];
        if (method === 'log' && args.length >= 2) {
          levels = levelsOf(args[0], file);
          rest = args.slice(1);
        } else if (winstonLevels.includes(method) && args.length >= 1) {
          levels = [method];
          rest = args;
        }
        const [message, meta] = rest;
        if (levels.length && message && ts.isTemplateExpression(message)) {
          lines.push({
            message: message.head.text,
            headOnly: true,
            fields: new Set(meta ? objectKeys(meta, file) : []),
            levels: new Set(levels),
          });
        } else if (levels.length && message && ts.isStringLiteralLike(message)) {
          lines.push({
            message: message.text,
            fields: new Set(meta ? objectKeys(meta, file) : []),
            levels: new Set(levels),
          });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return { commonFields: new Set(loggerFields), lines };
}
