import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(`${root}/README.md`, 'utf8');

/**
 * The option interfaces of `createSessionManager()`, wherever in src/core they are declared;
 * nested ones are named `cookie.name`.
 */
function documentedInCode(): string[] {
  const interfaces = new Map<string, { node: ts.InterfaceDeclaration; source: ts.SourceFile }>();
  const dir = `${root}/src/core`;
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
    const path = `${dir}/${file}`;
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest);
    source.forEachChild((node) => {
      if (ts.isInterfaceDeclaration(node)) interfaces.set(node.name.text, { node, source });
    });
  }
  const names = (name: string, prefix: string): string[] => {
    const found = interfaces.get(name);
    if (found === undefined) throw new Error(`interface ${name} not found in src/core`);
    const { node: declaration, source } = found;
    return declaration.members.flatMap((member) => {
      if (!ts.isPropertySignature(member)) return [];
      const key = `${prefix}${member.name.getText(source)}`;
      const type = member.type;
      const nested =
        type !== undefined && ts.isTypeReferenceNode(type) ? type.typeName.getText(source) : '';
      return nested === 'CookieOptions' || nested === 'CSRFOptions'
        ? names(nested, `${key}.`)
        : [key];
    });
  };
  return names('SessionManagerOptions', '');
}

/** The first column of the table under "## Configuration". */
function documentedInReadme(): string[] {
  const section = readme.split(/^## /m).find((part) => part.startsWith('Configuration\n'));
  if (section === undefined) throw new Error('README has no "## Configuration" section');
  return section
    .split('\n')
    .map((line) => /^\| `([^`]+)` /.exec(line)?.[1])
    .filter((name) => name !== undefined);
}

describe('README', () => {
  it('the configuration table lists every option of createSessionManager(), and only those', () => {
    const inCode = documentedInCode();
    expect(inCode).toContain('cookie.name');
    expect(inCode).toContain('csrf.origins');
    expect([...documentedInReadme()].sort()).toEqual([...inCode].sort());
  });

  it('every code block marked with a file is that file, verbatim', () => {
    const marked = [...readme.matchAll(/^<!-- file: (\S+) -->\n\n?```\w*\n([\s\S]*?)^```$/gm)];
    expect(marked.map((match) => match[1])).toContain('examples/express/app.ts');
    for (const [, file, block] of marked) {
      expect(block, `README block of ${file}`).toBe(readFileSync(`${root}/${file}`, 'utf8'));
    }
  });
});
