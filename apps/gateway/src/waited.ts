import type { Response } from 'express';
import { WAIT_HEADER } from '@hub/contracts';
import type { Waited } from '@hub/hub-api';

/** A `?wait=` read's answer: the view, with `Hub-Wait: reached` or `timed-out` (200 either way). */
export function answerWaited<V>(res: Response, { view, reached }: Waited<V>): V {
  res.setHeader(WAIT_HEADER, reached ? 'reached' : 'timed-out');
  return view;
}
