import { dirname, relative, resolve, sep } from "node:path";
import ts from "typescript";

/** A call that runs when Mocha loads a test file, rather than when a test or hook runs. */
export interface LoadTimeCall {
  readonly line: number;
  readonly text: string;
}

const SUITE = /^(describe|context|suite)(\.(only|skip))?$/;
const RUNNABLE = /^(it|specify|test|before|after|beforeEach|afterEach)(\.(only|skip))?$/;

/**
 * Calls into the project's own code (anything imported from outside `tests/`, or a local
 * function that uses it) made at module level or directly in a `describe` body. Mocha runs
 * those while loading files, so one builder bug there aborts the whole run with no results;
 * inside a test or a hook it fails that test alone.
 */
export function loadTimeCalls(file: string, source: string, testsDir: string): LoadTimeCall[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  /** Functions and classes the project exports, and namespaces of its modules. */
  const project = new Set<string>();
  const namespaces = new Set<string>();
  for (const statement of sf.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const specifier = statement.moduleSpecifier.text;
    if (!specifier.startsWith(".")) continue;
    const target = resolve(dirname(file), specifier);
    if (!relative(testsDir, target).startsWith("..") && !relative(testsDir, target).startsWith(sep)) continue;
    const clause = statement.importClause;
    if (!clause || clause.isTypeOnly) continue;
    if (clause.name) project.add(clause.name.text);
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) namespaces.add(bindings.name.text);
    if (bindings && ts.isNamedImports(bindings)) for (const e of bindings.elements) if (!e.isTypeOnly) project.add(e.name.text);
  }

  // Local functions that reach project code, to a fixpoint.
  const locals = new Map<string, ts.Node>();
  for (const statement of sf.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name) locals.set(statement.name.text, statement);
    if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) {
        if (ts.isIdentifier(d.name) && d.initializer && (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer))) {
          locals.set(d.name.text, d.initializer);
        }
      }
    }
  }
  const uses = (node: ts.Node): boolean => {
    let found = false;
    const visit = (n: ts.Node): void => {
      if (found) return;
      if (ts.isIdentifier(n) && (project.has(n.text) || namespaces.has(n.text))) found = true;
      else ts.forEachChild(n, visit);
    };
    visit(node);
    return found;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, node] of locals) {
      if (!project.has(name) && uses(node)) {
        project.add(name);
        changed = true;
      }
    }
  }

  const calls: LoadTimeCall[] = [];
  // `build()`, `new Thing()`, `k8s.build()`; not a method of an imported constant (`LEVELS.join()`).
  const callsProject = (callee: ts.Expression): boolean =>
    (ts.isIdentifier(callee) && project.has(callee.text)) ||
    (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && namespaces.has(callee.expression.text));
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return;
    if (ts.isCallExpression(node)) {
      const callee = node.expression.getText(sf);
      if (RUNNABLE.test(callee)) return;
      if (SUITE.test(callee)) {
        for (const arg of node.arguments) {
          if ((ts.isArrowFunction(arg) || ts.isFunctionExpression(arg)) && ts.isBlock(arg.body)) arg.body.statements.forEach(visit);
        }
        return;
      }
    }
    if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && callsProject(node.expression)) {
      calls.push({ line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, text: node.getText(sf).split("\n")[0] });
      return;
    }
    ts.forEachChild(node, visit);
  };
  for (const statement of sf.statements) if (!ts.isImportDeclaration(statement)) visit(statement);
  return calls;
}
