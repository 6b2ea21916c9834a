// `npm start`: the desktop app, once it exists. Until then, say what there is to run.
const lines = [
  'Pinlab\'s desktop app is not built yet (it arrives with the lab engine and the UI).',
  'What runs today is the proxy core:',
  '',
  '  npx pinlab-proxy --help',
  '  npx pinlab-proxy --port 8080 --backend http://127.0.0.1:9001/mcp --backend http://127.0.0.1:9002/mcp',
  '',
  'and a demo MCP pod to put behind it:',
  '',
  '  node app/demo-backend/main.ts --port 9001 --pod pod-1',
  '',
  'The tests: npm test',
];
process.stdout.write(lines.join('\n') + '\n');
