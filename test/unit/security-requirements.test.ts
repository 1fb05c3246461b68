import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checklistMismatches,
  findCitations,
  findTitleCitations,
  mentionsSymbol,
  missingPaths,
  parseChecklistIds,
  parseRequirementsMap,
  undocumentedCitations,
  untestedIds,
  type Citation,
} from '../support/checklist.js';

/**
 * Applicable checklist ids that no test title cites yet: known gaps, for review. Each one needs
 * a test whose title cites it; then it comes off this list and its test goes into the map
 * (the check fails until both are done). Never mark an applicable id "Not applicable" to get
 * it off this list.
 */
const KNOWN_UNTESTED_IDS: readonly string[] = [
  'SM-37', // CSRF token never in a URL, log or Referer
  'SM-52', // keep little: no other cookie or browser storage holds user data
  'H-14', // logout racing a slow write
  'H-18', // Referer-only requests
  'H-20', // safe-method and method-override abuse
  'H-23', // token brute force and enumeration
  'H-24', // timing and response oracle
  'H-30', // binding mismatch (stolen cookie replay)
];

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAP = 'docs/security-requirements.md';
/** Outside the repository: a fresh clone (CI) may not have it. */
const CHECKLIST =
  process.env.STRONGROOM_CHECKLIST ?? join(ROOT, '..', 'shared', 'security-checklist.md');
const CHECKLIST_NAME = '../shared/security-checklist.md';
const SCANNED = ['src', 'demo', 'test'];
/** This test and its helper cite made-up ids in fixtures on purpose. */
const NOT_SCANNED = new Set([
  'test/unit/security-requirements.test.ts',
  'test/support/checklist.ts',
]);
const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', '.data', 'coverage']);
const SCRIPT = /\.[cm]?[jt]sx?$/;

function filesUnder(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return SKIPPED_DIRECTORIES.has(entry.name) ? [] : filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

/** Repository-relative, `/`-separated, text only. */
function scannedFiles(): { path: string; text: string }[] {
  return SCANNED.flatMap((dir) => filesUnder(join(ROOT, dir)))
    .map((absolute) => relative(ROOT, absolute).split(sep).join('/'))
    .filter((path) => !NOT_SCANNED.has(path))
    .map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }))
    .filter(({ text }) => !text.includes('\u0000'));
}

function readRepoFile(path: string): string | null {
  const absolute = join(ROOT, path);
  return existsSync(absolute) && statSync(absolute).isFile()
    ? readFileSync(absolute, 'utf8')
    : null;
}

const map = parseRequirementsMap(readFileSync(join(ROOT, MAP), 'utf8'));
const files = scannedFiles();
const citations: Citation[] = files.flatMap(({ path, text }) => findCitations(text, path));
const titleCitations: Citation[] = files
  .filter(({ path, text }) => SCRIPT.test(path) && /\b(SM|H)-\d/.test(text))
  .flatMap(({ path, text }) => findTitleCitations(text, path));
const checklist = existsSync(CHECKLIST) ? readFileSync(CHECKLIST, 'utf8') : null;

describe(`${MAP}: the in-repo map of the security checklist`, () => {
  it('follows the format: each id has a requirement, and where it is implemented and its tests or a not-applicable reason', () => {
    expect(map.problems).toEqual([]);
    expect(map.entries.length).toBeGreaterThan(0);
  });

  it('(a) has an entry for every SM-/H- id cited in src/, demo/ or test/', () => {
    expect(citations.length).toBeGreaterThan(0);
    expect(undocumentedCitations(map.entries, citations, MAP)).toEqual([]);
  });

  it('(b) every applicable id has a test whose title cites it, in the files the map lists (known gaps: KNOWN_UNTESTED_IDS)', () => {
    expect(titleCitations.length).toBeGreaterThan(0);
    expect(untestedIds(map.entries, titleCitations, KNOWN_UNTESTED_IDS, MAP)).toEqual([]);
  });

  it('(c) every file under "Implemented in" and "Tests" exists and contains the names given for it', () => {
    expect(missingPaths(map.entries, readRepoFile, MAP)).toEqual([]);
  });

  it.skipIf(checklist === null)(
    checklist === null
      ? `(d) has exactly the ids of the checklist: SKIPPED, ${CHECKLIST_NAME} is not available (a fresh clone)`
      : `(d) has exactly the ids of the checklist (${CHECKLIST_NAME})`,
    () => {
      const ids = parseChecklistIds(checklist ?? '');
      expect(ids.size).toBeGreaterThan(0);
      expect(checklistMismatches(map.entries, ids, MAP, CHECKLIST_NAME)).toEqual([]);
    },
  );
});

const GOOD_MAP = `# Map

## Format

- \`Requirement:\` not an entry: no id heading yet.

\`\`\`md
### SM-77

- Requirement: an example in a code block is not an entry
\`\`\`

## A. Tokens

### SM-01

- Requirement: tokens are random.
- Implemented in: \`src/core/token.ts\` (\`generateToken\`, \`Runtime.randomBytes\`); \`demo/app.ts\`
- Tests: \`test/unit/a.test.ts\`, \`src/testing/contract.ts\`

### SM-02

- Requirement: only for browsers.
- Not applicable: Strongroom has no browser part.

## Hostile inputs

### H-01

- Requirement: duplicate cookies.
- Implemented in: \`demo/app.ts\` (\`createDemoApp\`)
- Tests: none
- Demo only: the demo owns the route.
- Note: free text.
`;

describe('the map checks, on fixtures (each must fail on bad input)', () => {
  describe('parseRequirementsMap', () => {
    it('reads ids, sections, fields, path references and markers; code blocks are not entries', () => {
      const { entries, problems } = parseRequirementsMap(GOOD_MAP);
      expect(problems).toEqual([]);
      expect(entries.map((entry) => entry.id)).toEqual(['SM-01', 'SM-02', 'H-01']);
      expect(entries[0]).toMatchObject({
        section: 'A. Tokens',
        requirement: 'tokens are random.',
        implementedIn: [
          { path: 'src/core/token.ts', symbols: ['generateToken', 'Runtime.randomBytes'] },
          { path: 'demo/app.ts', symbols: [] },
        ],
        tests: ['test/unit/a.test.ts', 'src/testing/contract.ts'],
        notApplicable: null,
      });
      expect(entries[1]).toMatchObject({
        notApplicable: 'Strongroom has no browser part.',
        implementedIn: [],
        tests: [],
      });
      expect(entries[2]).toMatchObject({
        section: 'Hostile inputs',
        tests: [],
        demoOnly: 'the demo owns the route.',
        note: 'free text.',
      });
    });

    it.each([
      [
        'no requirement',
        '### SM-03\n\n- Implemented in: `src/a.ts`\n- Tests: none',
        'SM-03 (line 1): no "Requirement:" line',
      ],
      [
        'no implementation',
        '### SM-03\n\n- Requirement: r\n- Tests: none',
        'SM-03 (line 1): no "Implemented in:" line',
      ],
      [
        'no tests line',
        '### SM-03\n\n- Requirement: r\n- Implemented in: `src/a.ts`',
        'SM-03 (line 1): no "Tests:" line',
      ],
      [
        'an unknown field',
        '### SM-03\n\n- Requirement: r\n- Implemented In: `src/a.ts`',
        'SM-03 (line 4): unknown field "Implemented In"',
      ],
      [
        'a field twice',
        '### SM-03\n\n- Requirement: r\n- Requirement: s',
        'SM-03 (line 4): "Requirement" given twice',
      ],
      [
        'a malformed id heading',
        '### SM-3\n\n- Requirement: r',
        '"### SM-3" is not a checklist id',
      ],
      [
        'a duplicate entry',
        '### SM-03\n- Requirement: r\n- Not applicable: x\n### SM-03\n- Requirement: r\n- Not applicable: x',
        'SM-03 (line 4): duplicate entry, first at line 1',
      ],
      [
        'prose in "Implemented in"',
        '### SM-03\n- Requirement: r\n- Implemented in: the token module\n- Tests: none',
        'SM-03 (line 1): "Implemented in:" must be',
      ],
      [
        'symbols on a test file',
        '### SM-03\n- Requirement: r\n- Implemented in: `src/a.ts`\n- Tests: `test/a.test.ts` (`x`)',
        'SM-03 (line 1): "Tests:" must be',
      ],
      [
        'not applicable without a reason',
        '### SM-03\n- Requirement: r\n- Not applicable:',
        'SM-03 (line 1): "Not applicable:" needs a reason',
      ],
      [
        'not applicable and implemented',
        '### SM-03\n- Requirement: r\n- Not applicable: x\n- Implemented in: `src/a.ts`',
        'SM-03 (line 1): a not-applicable id has no "Implemented in:"',
      ],
    ])('reports %s', (_name, text, problem) => {
      expect(parseRequirementsMap(text).problems.join('\n')).toContain(problem);
    });
  });

  describe('findCitations and findTitleCitations', () => {
    it('finds ids in comments and strings, with their line, and expands ranges', () => {
      const text =
        '// SM-04: checked\nconst a = "H-05"; // SM-35..SM-38, SM-27–SM-29\nSHA-256 WASM-1';
      expect(
        findCitations(text, 'src/x.ts')
          .map((c) => `${c.id}@${c.line}`)
          .sort(),
      ).toEqual(
        [
          'SM-04@1',
          'H-05@2',
          'SM-35@2',
          'SM-36@2',
          'SM-37@2',
          'SM-38@2',
          'SM-27@2',
          'SM-28@2',
          'SM-29@2',
        ].sort(),
      );
    });

    it('counts titles of it, test, describe, their .each and .skipIf forms and helpers named like them', () => {
      const text = [
        "it('[SM-01] a', () => {});",
        "test('[SM-02] b', () => {});",
        "it.each([[1, [2]]])('[SM-03] %s', () => {});",
        "describe.skipIf(!up)('[H-01] d', () => {});",
        "describeEachStore('[SM-04] e', (kind) => {});",
        'itIf(applies)(`[SM-05] ${name} f`, async () => {});',
        "it(\n  '[SM-06] on the next line',\n  () => {},\n);",
        "describe('deleteAll (SM-07)', () => {});",
      ].join('\n');
      expect(findTitleCitations(text, 'test/x.test.ts').map((c) => `${c.id}@${c.line}`)).toEqual([
        'SM-01@1',
        'SM-02@2',
        'SM-03@3',
        'H-01@4',
        'SM-04@5',
        'SM-05@6',
        'SM-06@8',
        'SM-07@11',
      ]);
    });

    it('does not count comments, other strings, .todo or .skip', () => {
      const text = [
        "// it('[SM-01] in a comment', () => {});",
        "expect(title).toBe('[SM-02]');",
        "const title = '[SM-03] a constant';",
        "it.todo('[SM-04] not written yet');",
        "it.skip('[SM-05] never runs', () => {});",
        "items('[SM-06] not a test function');",
        "it(title, () => { log('[SM-07]'); });",
      ].join('\n');
      expect(findTitleCitations(text, 'test/x.test.ts')).toEqual([]);
    });
  });

  describe('the checks', () => {
    const { entries } = parseRequirementsMap(GOOD_MAP);
    const titles: Citation[] = [
      { id: 'SM-01', file: 'test/unit/a.test.ts', line: 3 },
      { id: 'SM-01', file: 'src/testing/contract.ts', line: 9 },
    ];

    it('(a) fails for a cited id the map lacks, naming the id and the file that cites it', () => {
      const cited: Citation[] = [
        { id: 'SM-01', file: 'src/core/token.ts', line: 3 },
        { id: 'SM-99', file: 'src/core/bogus.ts', line: 12 },
      ];
      expect(undocumentedCitations(entries, cited, MAP)).toEqual([
        `SM-99 is cited in src/core/bogus.ts:12 but has no entry in ${MAP}`,
      ]);
    });

    it('(b) passes when every applicable id is tested or a known gap; not-applicable ids need no test', () => {
      expect(untestedIds(entries, titles, ['H-01'], MAP)).toEqual([]);
    });

    it('(b) fails for an applicable id that no title cites, unless it is a known gap', () => {
      expect(untestedIds(entries, titles, [], MAP)).toEqual([
        `H-01 (${MAP}:28) has no test: no it()/test()/describe() title cites [H-01]`,
      ]);
    });

    it('(b) fails when a known gap is tested now, not applicable, or not in the map', () => {
      const tested = [...titles, { id: 'H-01', file: 'test/h.test.ts', line: 1 }];
      const failures = untestedIds(entries, tested, ['H-01', 'SM-02', 'SM-98'], MAP);
      expect(failures).toContain(
        `H-01 (${MAP}:28) is tested now (test/h.test.ts): drop it from the known gaps and list the tests in the map`,
      );
      expect(failures).toContain(
        `H-01 (${MAP}:28) says "Tests: none" but titles in test/h.test.ts cite it`,
      );
      expect(failures).toContain(`SM-02 (${MAP}:21) is not applicable: drop it from the gaps`);
      expect(failures).toContain(`known gap SM-98 has no entry in ${MAP}`);
    });

    it('(b) fails when a listed test file has no title citing the id (the test moved)', () => {
      expect(untestedIds(entries, titles.slice(0, 1), ['H-01'], MAP)).toEqual([
        `SM-01 (${MAP}:15) lists src/testing/contract.ts under Tests, but no test title there cites it`,
      ]);
    });

    it('(c) passes when every listed file exists and contains its names', () => {
      const repo: Record<string, string> = {
        'src/core/token.ts':
          'export function generateToken() {}\ninterface Runtime { randomBytes }',
        'demo/app.ts': 'export function createDemoApp() {}',
        'test/unit/a.test.ts': '',
        'src/testing/contract.ts': '',
      };
      expect(missingPaths(entries, (path) => repo[path] ?? null, MAP)).toEqual([]);
    });

    it('(c) fails for a missing file, a name the file lacks, and a path outside the allowed roots', () => {
      const repo: Record<string, string> = {
        'src/core/token.ts':
          'export function generateTokens() {}\ninterface Runtime { randomBytes }',
        'test/unit/a.test.ts': '',
      };
      expect(missingPaths(entries, (path) => repo[path] ?? null, MAP)).toEqual([
        `SM-01 (${MAP}:15): src/core/token.ts does not contain generateToken`,
        `SM-01 (${MAP}:15): "Implemented in" file demo/app.ts does not exist`,
        `SM-01 (${MAP}:15): test file src/testing/contract.ts does not exist`,
        `H-01 (${MAP}:28): "Implemented in" file demo/app.ts does not exist`,
      ]);
      const outside = parseRequirementsMap(
        '### SM-05\n- Requirement: r\n- Implemented in: `lib/a.ts`; `src/../x.ts`\n- Tests: `docs/a.md`',
      ).entries;
      expect(missingPaths(outside, () => '', MAP)).toEqual([
        `SM-05 (${MAP}:1): "Implemented in" file lib/a.ts is not under src/ or demo/`,
        `SM-05 (${MAP}:1): "Implemented in" file src/../x.ts is not under src/ or demo/`,
        `SM-05 (${MAP}:1): test file docs/a.md is not under test/ or src/testing/`,
      ]);
    });

    it('(c) matches names as whole words, members by each part, private fields with their #', () => {
      const text = 'class Sealer { open() {} #cache = 1 }\nfunction generateTokens() {}';
      expect(mentionsSymbol(text, 'Sealer.open')).toBe(true);
      expect(mentionsSymbol(text, '#cache')).toBe(true);
      expect(mentionsSymbol(text, 'cache')).toBe(false);
      expect(mentionsSymbol(text, 'generateToken')).toBe(false);
      expect(mentionsSymbol(text, 'Sealer.seal')).toBe(false);
    });

    it('(d) reads the checklist ids from the first cell of its table rows', () => {
      const table =
        '| ID | Requirement |\n|---|---|\n| SM-01 | a |\n| H-01 | b (SM-02) |\n| SM-02 | c |';
      expect([...parseChecklistIds(table)]).toEqual(['SM-01', 'H-01', 'SM-02']);
    });

    it('(d) fails for a map id the checklist lacks and a checklist id the map lacks', () => {
      const ids = new Set(['SM-01', 'H-01', 'SM-03']);
      expect(checklistMismatches(entries, ids, MAP, CHECKLIST_NAME)).toEqual([
        `SM-02 (${MAP}:21) is not an id of ${CHECKLIST_NAME}`,
        `SM-03 of ${CHECKLIST_NAME} has no entry in ${MAP}`,
      ]);
    });
  });
});
