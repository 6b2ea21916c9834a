// `npm start`: the desktop app, once it exists. Until then, say what there is to run.
const lines = [
  'Pinlab\'s desktop app is not built yet (it arrives with the UI issue). What runs today:',
  '',
  '  npx pinlab scenarios                 the scenarios',
  '  npx pinlab scenario pod-kill         start a lab, break it, print the verdict',
  '  npx pinlab matrix                    why Redis and pod pinning matter, in one table',
  '  npx pinlab report --out ./report     a Markdown + JSON bug report of a run',
  '  npx pinlab-proxy --help              the proxy on its own',
  '',
  'The tests: npm test',
];
process.stdout.write(lines.join('\n') + '\n');
