// Run after `vite build`: the console's bundle must not carry the mock backend or the recorded
// engine fixtures, which exist for tests and development only (main.ts loads them behind
// import.meta.env.DEV). Each marker is text only those modules contain.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MARKERS = [
  ['the mock backend', 'no recorded engine answer'],
  // A visit id of the recorded clinic (the development sample is built from it too).
  ['the recorded engine fixtures', '00000000-0000-0000-0000-0000000000a4'],
];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const found = [];
for (const file of files('dist')) {
  const text = readFileSync(file, 'utf8');
  for (const [what, marker] of MARKERS) if (text.includes(marker)) found.push(`${file}: ${what}`);
}
if (found.length > 0) {
  console.error(`The production build carries code meant for tests and development only:\n${found.join('\n')}`);
  process.exit(1);
}
console.log('dist/ carries no mock backend and no recorded fixtures.');
