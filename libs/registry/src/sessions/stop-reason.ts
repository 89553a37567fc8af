/**
 * The status reason a held session is given when Hub itself asks its runner to stop it (its
 * orchestration's budget is spent): its final reason then says why, rather than "on request".
 */
export const STOPPING = 'stopping: ';
