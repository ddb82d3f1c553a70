// A small scanner for the Python snippets of a model (scripts, conditions): which names a snippet reads and
// which it binds. Deliberately cautious – it may miss a wrong name (the server's ast-based lint finds it at
// deploy) but must not report a correct one: strings and comments are skipped, attributes (a.b) and keyword
// arguments (f(a=1)) are not reads, and a name bound anywhere (a = …, for a in, as a, lambda a:) counts as known.
const KEYWORDS = new Set(('and as assert async await break class continue def del elif else except finally for from '
  + 'global if import in is lambda nonlocal not or pass raise return try while with yield match case').split(' '));
const IDENT = /[A-Za-z_\u00C0-\uFFFF][\w\u00C0-\uFFFF]*/y;

// Replace string literals and comments by spaces (keeps positions and line breaks).
function stripStrings(source) {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (ch === '#') {
      while (i < source.length && source[i] !== '\n') { out += ' '; i += 1; }
    } else if (ch === '"' || ch === "'") {
      const triple = source.startsWith(ch.repeat(3), i);
      const quote = triple ? ch.repeat(3) : ch;
      out += ' '.repeat(quote.length);
      i += quote.length;
      while (i < source.length && !source.startsWith(quote, i) && (triple || source[i] !== '\n')) {
        const step = source[i] === '\\' ? 2 : 1;
        out += source.slice(i, i + step).replace(/[^\n]/g, ' ');
        i += step;
      }
      out += ' '.repeat(Math.min(quote.length, source.length - i));
      i += quote.length;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

function tokens(code) {
  const found = [];
  for (let i = 0; i < code.length;) {
    IDENT.lastIndex = i;
    const match = IDENT.exec(code);
    if (match && (i === 0 || !/[\w\u00C0-\uFFFF]/.test(code[i - 1]))) {
      found.push({ name: match[0], start: i, end: i + match[0].length });
      i += match[0].length;
    } else {
      i += 1;
    }
  }
  return found;
}

// String prefixes (f"…", rb'…') are left as identifiers right before a blank; drop them.
function isStringPrefix(code, token) {
  return /^(?:[rRbBuUfF]{1,2})$/.test(token.name) && code[token.end] === ' ' && /["']/.test(code[token.end] || '');
}

function scan(source) {
  const code = stripStrings(source);
  const loaded = new Set();
  const bound = new Set();
  for (const line of code.split('\n')) {
    const target = /^\s*([\w\u00C0-\uFFFF\s,()[\]*]+?)\s*(?:[-+*/%&|^@]|\/\/|\*\*|>>|<<)?=(?!=)/.exec(line);
    if (target && !/[[\]]/.test(target[1])) tokens(target[1]).forEach((t) => bound.add(t.name));
  }
  const list = tokens(code);
  list.forEach((token, index) => {
    const before = code.slice(0, token.start).trimEnd();
    const after = code.slice(token.end).trimStart();
    const previous = list[index - 1];
    if (KEYWORDS.has(token.name) || isStringPrefix(code, token)) return;
    if (before.endsWith('.') && !before.endsWith('..')) return; // attribute
    if (/^(?:[-+*/%&|^@]|\/\/|\*\*|>>|<<)?=(?!=)/.test(after)) { bound.add(token.name); return; }
    if (previous && ['as', 'def', 'class', 'global', 'nonlocal', 'import'].includes(previous.name)) { bound.add(token.name); return; }
    loaded.add(token.name);
  });
  // for a, b in …  |  lambda a, b: …
  for (const match of code.matchAll(/\bfor\s+([^:]*?)\s+in\b/g)) tokens(match[1]).forEach((t) => bound.add(t.name));
  for (const match of code.matchAll(/\blambda\b([^:]*):/g)) tokens(match[1]).forEach((t) => bound.add(t.name));
  for (const match of code.matchAll(/\bdef\s+[\w\u00C0-\uFFFF]+\s*\(([^)]*)\)/g)) tokens(match[1]).forEach((t) => bound.add(t.name));
  return { loaded, bound };
}

module.exports = { scan, stripStrings };
