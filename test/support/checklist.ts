/**
 * Reads the in-repo map of the security checklist (docs/security-requirements.md) and the
 * places that cite checklist ids (SM-xx requirements, H-xx hostile inputs), and compares them.
 * Pure functions over strings, so that test/unit/security-requirements.test.ts can prove each
 * check fails on a bad fixture without touching the repository.
 */
import ts from 'typescript';

/** A checklist id as cited in code, comments, titles and the map: `SM-20`, `H-05`. */
const ID = /\b(SM|H)-(\d+)\b/g;
/** How an id must look in the map: two digits, as the checklist numbers them. */
const WELL_FORMED_ID = /^(SM|H)-\d{2}$/;
/** `SM-35..SM-42`, `SM-27–SM-30`: a range cites every id in it. */
const RANGE = /\b(SM|H)-(\d+)\s*(?:\.\.|–|—)\s*(SM|H)-(\d+)\b/g;
const MAX_RANGE = 30;

/** Where an id is cited: `file:line`. */
export interface Citation {
  readonly id: string;
  readonly file: string;
  readonly line: number;
}

/** A file the map points at, with the functions or classes it names in that file. */
export interface PathRef {
  readonly path: string;
  readonly symbols: readonly string[];
}

/** One `### <id>` entry of the map. */
export interface MapEntry {
  readonly id: string;
  /** The `## ` section the entry sits in. */
  readonly section: string;
  /** 1-based line of the `### <id>` heading. */
  readonly line: number;
  readonly requirement: string;
  /** Empty for a not-applicable id. */
  readonly implementedIn: readonly PathRef[];
  /** Test files whose titles cite the id; empty when the map says `none`. */
  readonly tests: readonly string[];
  /** The reason, when the id does not apply to Strongroom at all. */
  readonly notApplicable: string | null;
  /** The reason, when the id applies only to the demo app (it is still implemented and tested). */
  readonly demoOnly: string | null;
  readonly note: string | null;
}

export interface ParsedMap {
  readonly entries: readonly MapEntry[];
  /** Lines that do not follow the format; the map is wrong until this is empty. */
  readonly problems: readonly string[];
}

/** The `- Name: value` lines an entry may have, each at most once. */
const FIELDS = [
  'Requirement',
  'Implemented in',
  'Tests',
  'Not applicable',
  'Demo only',
  'Note',
] as const;
type FieldName = (typeof FIELDS)[number];
const isField = (name: string): name is FieldName => (FIELDS as readonly string[]).includes(name);

/** Where the code an entry points at may live. */
export const IMPLEMENTATION_ROOTS: readonly string[] = ['src/', 'demo/'];
/** Where tests live: the test tree, and the store contract suite that ships in `strongroom/testing`. */
export const TEST_ROOTS: readonly string[] = ['test/', 'src/testing/'];

/** The value of a `Tests:` line for an id that no test title cites yet (a known gap). */
export const NO_TESTS = 'none';

const lineOf = (text: string, index: number): number => text.slice(0, index).split('\n').length;

/** Every id cited in `text`, one citation per occurrence; ranges cite each id in them. */
export function findCitations(text: string, file: string): Citation[] {
  const found: Citation[] = [];
  for (const match of text.matchAll(ID)) {
    found.push({ id: match[0], file, line: lineOf(text, match.index) });
  }
  for (const match of text.matchAll(RANGE)) {
    const [prefix, from, toPrefix, to] = [match[1]!, match[2]!, match[3]!, match[4]!];
    const [low, high] = [Number(from), Number(to)];
    if (prefix !== toPrefix || high <= low || high - low > MAX_RANGE) continue;
    const width = from.length;
    for (let n = low + 1; n < high; n++) {
      const id = `${prefix}-${String(n).padStart(width, '0')}`;
      found.push({ id, file, line: lineOf(text, match.index) });
    }
  }
  return found;
}

/**
 * Whether `callee` declares a test or a suite: `it`, `test`, `describe`, `suite` and helpers
 * named like them (`itIf(...)`, `describeEachStore`), also through `.each(...)`, `.skipIf(...)`,
 * `.concurrent`. `.todo` and `.skip` declare nothing that runs, so they do not count.
 */
function declaresTest(callee: ts.Expression): boolean {
  let node: ts.Expression = callee;
  for (;;) {
    if (ts.isCallExpression(node)) node = node.expression;
    else if (ts.isPropertyAccessExpression(node)) {
      if (node.name.text === 'todo' || node.name.text === 'skip') return false;
      node = node.expression;
    } else break;
  }
  return ts.isIdentifier(node) && /^(it|test|describe|suite)(?![a-z0-9_$])/.test(node.text);
}

/** The text of a title argument; a template's placeholders read as `${}`. */
function titleText(argument: ts.Expression | undefined): string | null {
  if (argument === undefined) return null;
  if (ts.isStringLiteral(argument) || ts.isNoSubstitutionTemplateLiteral(argument)) {
    return argument.text;
  }
  if (ts.isTemplateExpression(argument)) {
    return [argument.head.text, ...argument.templateSpans.map((span) => span.literal.text)].join(
      '${}',
    );
  }
  return null;
}

/**
 * Ids cited in test titles: the first argument of `it(`, `test(`, `describe(` and the like,
 * when it is a string literal or template. Comments and other strings do not count.
 */
export function findTitleCitations(text: string, file: string): Citation[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Citation[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && declaresTest(node.expression)) {
      const first = node.arguments[0];
      const title = titleText(first);
      if (title !== null && first !== undefined) {
        const line = source.getLineAndCharacterOfPosition(first.getStart(source)).line + 1;
        for (const match of title.matchAll(ID)) found.push({ id: match[0], file, line });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The ids the checklist defines: the first cell of its requirement and hostile-input rows. */
export function parseChecklistIds(text: string): Set<string> {
  const ids = new Set<string>();
  for (const match of text.matchAll(/^\|\s*((?:SM|H)-\d+)\s*\|/gm)) ids.add(match[1]!);
  return ids;
}

/** `` `src/a.ts` (`f`, `C.m`); `demo/b.ts` `` → refs; null when the value is not in that form. */
function parseRefs(value: string, separator: string): PathRef[] | null {
  const refs: PathRef[] = [];
  for (const part of value.split(separator)) {
    const match = /^`([^`\s]+)`(?:\s+\(((?:`[^`]+`)(?:,\s*`[^`]+`)*)\))?$/.exec(part.trim());
    if (match === null) return null;
    const symbols = [...(match[2] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    refs.push({ path: match[1]!, symbols });
  }
  return refs;
}

interface Draft {
  id: string;
  section: string;
  line: number;
  fields: Partial<Record<FieldName, { value: string; line: number }>>;
}

/**
 * Parses the map. Format, per id:
 *
 * ```md
 * ### SM-20
 *
 * - Requirement: <one line>
 * - Implemented in: `src/x.ts` (`fn`, `Class.method`); `demo/y.ts` (`other`)
 * - Tests: `test/a.test.ts`, `test/b.test.ts`      (or: none)
 * - Demo only: <reason>                            (optional)
 * - Not applicable: <reason>                       (instead of Implemented in and Tests)
 * - Note: <free text>                              (optional)
 * ```
 */
export function parseRequirementsMap(text: string): ParsedMap {
  const problems: string[] = [];
  const drafts: Draft[] = [];
  let section = '';
  let current: Draft | null = null;
  let inFence = false;

  for (const [index, raw] of text.split('\n').entries()) {
    const line = index + 1;
    // Examples in code blocks are not entries.
    const fence = /^\s*(```|~~~)/.test(raw);
    if (fence) inFence = !inFence;
    if (fence || inFence) continue;
    const heading = /^(#{2,3})\s+(.*?)\s*$/.exec(raw);
    if (heading !== null) {
      const [level, title] = [heading[1]!, heading[2]!];
      current = null;
      if (level === '##') section = title;
      else if (!WELL_FORMED_ID.test(title)) {
        problems.push(`line ${line}: "### ${title}" is not a checklist id (SM-xx or H-xx)`);
      } else {
        current = { id: title, section, line, fields: {} };
        drafts.push(current);
      }
      continue;
    }
    const field = /^- ([A-Za-z ]+?):\s*(.*?)\s*$/.exec(raw);
    if (field === null || current === null) continue;
    const [name, value] = [field[1]!, field[2]!];
    if (!isField(name)) {
      problems.push(`${current.id} (line ${line}): unknown field "${name}"`);
    } else if (current.fields[name] !== undefined) {
      problems.push(`${current.id} (line ${line}): "${name}" given twice`);
    } else {
      current.fields[name] = { value, line };
    }
  }

  const seen = new Map<string, number>();
  const entries: MapEntry[] = [];
  for (const { id, section: inSection, line, fields } of drafts) {
    const where = `${id} (line ${line})`;
    const earlier = seen.get(id);
    if (earlier !== undefined) problems.push(`${where}: duplicate entry, first at line ${earlier}`);
    seen.set(id, line);

    const requirement = fields.Requirement?.value ?? '';
    if (requirement === '') problems.push(`${where}: no "Requirement:" line`);
    const notApplicable = fields['Not applicable']?.value ?? null;
    if (notApplicable === '') problems.push(`${where}: "Not applicable:" needs a reason`);
    const demoOnly = fields['Demo only']?.value ?? null;
    if (demoOnly === '') problems.push(`${where}: "Demo only:" needs a reason`);

    let implementedIn: PathRef[] = [];
    let tests: string[] = [];
    if (notApplicable !== null) {
      if (fields['Implemented in'] !== undefined || demoOnly !== null) {
        problems.push(`${where}: a not-applicable id has no "Implemented in:" or "Demo only:"`);
      }
    } else {
      const implemented = fields['Implemented in'];
      if (implemented === undefined) {
        problems.push(`${where}: no "Implemented in:" line (or "Not applicable: <reason>")`);
      } else {
        const refs = parseRefs(implemented.value, ';');
        if (refs === null) {
          problems.push(
            `${where}: "Implemented in:" must be \`path\` (\`symbol\`, ...) items separated by "; "`,
          );
        } else implementedIn = refs;
      }
    }
    const testsField = fields.Tests;
    if (testsField === undefined) {
      if (notApplicable === null) problems.push(`${where}: no "Tests:" line`);
    } else if (testsField.value !== NO_TESTS) {
      const refs = parseRefs(testsField.value, ',');
      if (refs === null || refs.some((ref) => ref.symbols.length > 0)) {
        problems.push(`${where}: "Tests:" must be \`path\` items separated by ", ", or "none"`);
      } else tests = refs.map((ref) => ref.path);
    }

    entries.push({
      id,
      section: inSection,
      line,
      requirement,
      implementedIn,
      tests,
      notApplicable,
      demoOnly,
      note: fields.Note?.value ?? null,
    });
  }
  return { entries, problems };
}

const at = (citation: Citation): string => `${citation.file}:${citation.line}`;

/** (a) Ids cited somewhere that the map has no entry for. */
export function undocumentedCitations(
  entries: readonly MapEntry[],
  citations: readonly Citation[],
  mapPath: string,
): string[] {
  const known = new Set(entries.map((entry) => entry.id));
  return citations
    .filter((citation) => !known.has(citation.id))
    .map((citation) => `${citation.id} is cited in ${at(citation)} but has no entry in ${mapPath}`);
}

/**
 * (b) Applicable ids that no test title cites, except those in `knownGaps`; and, so that the
 * allow-list only shrinks, gap entries that are tested now, not applicable, or not in the map.
 * Also: a map entry's `Tests:` must list only files whose titles cite the id, and may say
 * `none` only for a known gap.
 */
export function untestedIds(
  entries: readonly MapEntry[],
  titleCitations: readonly Citation[],
  knownGaps: readonly string[],
  mapPath: string,
): string[] {
  const failures: string[] = [];
  const filesCiting = new Map<string, Set<string>>();
  for (const citation of titleCitations) {
    const files = filesCiting.get(citation.id) ?? new Set<string>();
    files.add(citation.file);
    filesCiting.set(citation.id, files);
  }
  const gaps = new Set(knownGaps);
  for (const entry of entries) {
    const files = filesCiting.get(entry.id) ?? new Set<string>();
    const where = `${entry.id} (${mapPath}:${entry.line})`;
    if (entry.notApplicable !== null) {
      if (gaps.has(entry.id)) failures.push(`${where} is not applicable: drop it from the gaps`);
      continue;
    }
    if (files.size === 0 && !gaps.has(entry.id)) {
      failures.push(`${where} has no test: no it()/test()/describe() title cites [${entry.id}]`);
    }
    if (files.size > 0 && gaps.has(entry.id)) {
      failures.push(
        `${where} is tested now (${[...files].join(', ')}): drop it from the known gaps and list the tests in the map`,
      );
    }
    if (entry.tests.length === 0 && files.size > 0) {
      failures.push(`${where} says "Tests: none" but titles in ${[...files].join(', ')} cite it`);
    }
    for (const test of entry.tests) {
      if (!files.has(test)) {
        failures.push(`${where} lists ${test} under Tests, but no test title there cites it`);
      }
    }
  }
  const mapped = new Set(entries.map((entry) => entry.id));
  for (const gap of gaps) {
    if (!mapped.has(gap)) failures.push(`known gap ${gap} has no entry in ${mapPath}`);
  }
  return failures;
}

/** Whether `symbol` (`fn`, `Class.method`, `#field`) occurs in `text`, each part as a word. */
export function mentionsSymbol(text: string, symbol: string): boolean {
  return symbol.split('.').every((part) => {
    const escaped = part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(?<![\\w$#])${escaped}(?![\\w$])`).test(text);
  });
}

/**
 * (c) Paths in `Implemented in:` and `Tests:` that do not exist, and symbols that the named
 * file does not mention (the code moved). `read` returns a file's text, or null when there is
 * no such file.
 */
export function missingPaths(
  entries: readonly MapEntry[],
  read: (path: string) => string | null,
  mapPath: string,
): string[] {
  const failures: string[] = [];
  const under = (path: string, roots: readonly string[]): boolean =>
    !path.split('/').includes('..') && roots.some((root) => path.startsWith(root));
  for (const entry of entries) {
    const where = `${entry.id} (${mapPath}:${entry.line})`;
    for (const ref of entry.implementedIn) {
      if (!under(ref.path, IMPLEMENTATION_ROOTS)) {
        failures.push(`${where}: "Implemented in" file ${ref.path} is not under src/ or demo/`);
        continue;
      }
      const text = read(ref.path);
      if (text === null) {
        failures.push(`${where}: "Implemented in" file ${ref.path} does not exist`);
        continue;
      }
      for (const symbol of ref.symbols) {
        if (!mentionsSymbol(text, symbol)) {
          failures.push(`${where}: ${ref.path} does not contain ${symbol}`);
        }
      }
    }
    for (const test of entry.tests) {
      if (!under(test, TEST_ROOTS)) {
        failures.push(`${where}: test file ${test} is not under test/ or src/testing/`);
      } else if (read(test) === null) {
        failures.push(`${where}: test file ${test} does not exist`);
      }
    }
  }
  return failures;
}

/** (d) Map entries the checklist does not define, and checklist ids the map lacks. */
export function checklistMismatches(
  entries: readonly MapEntry[],
  checklistIds: ReadonlySet<string>,
  mapPath: string,
  checklistPath: string,
): string[] {
  const failures: string[] = [];
  const mapped = new Set(entries.map((entry) => entry.id));
  for (const entry of entries) {
    if (!checklistIds.has(entry.id)) {
      failures.push(`${entry.id} (${mapPath}:${entry.line}) is not an id of ${checklistPath}`);
    }
  }
  for (const id of checklistIds) {
    if (!mapped.has(id)) failures.push(`${id} of ${checklistPath} has no entry in ${mapPath}`);
  }
  return failures;
}
