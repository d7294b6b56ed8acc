// The Node flags the mcpmux command starts with, read from its shebang, so that the bench measures
// the relay exactly as the command runs it (and a test keeps `npm start` in step with it).

const SHEBANG = /^#!\/usr\/bin\/env -S node((?: --?[\w-]+(?:=\S+)?)*)\s*$/;

/** `["--a=1", …]` from `#!/usr/bin/env -S node --a=1 …`; throws on any other first line. */
export function shebangNodeFlags(line: string): string[] {
  const match = SHEBANG.exec(line);
  if (match === null) throw new Error(`not a "#!/usr/bin/env -S node [flags]" line: ${line}`);
  return match[1]!.split(' ').filter((flag) => flag !== '');
}
