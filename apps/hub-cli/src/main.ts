import { processContext } from './cli-context';
import { runHub } from './hub-program';

// A reader that goes away (`hub logs <id> | head`) is no error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

void runHub(process.argv, processContext()).then((code) => {
  process.exitCode = code;
});
