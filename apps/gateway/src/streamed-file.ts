import { StreamableFile } from '@nestjs/common';
import type { HubFile } from '@hub/hub-api';

/** A log, output file or diff, streamed to the client with its Content-Type. */
export const streamed = (file: HubFile) => new StreamableFile(file.content, { type: file.contentType });
