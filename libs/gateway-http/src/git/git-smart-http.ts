import { Injectable } from '@nestjs/common';
import { type Request, type Response, Router } from 'express';
import { HubError } from '@hub/contracts';
import { GIT_HTTP_PREFIX } from '../gateway-http.tokens';
import { HttpProblem } from '../http-problem.error';
import { GitHttpBackend } from './git-http-backend';
import { OrchestrationRepositories } from './orchestration-repositories';
import { orchestrationIdOf, repositoryNameOf } from './repository-name';

const UPLOAD_PACK = 'git-upload-pack';

const readOnly = () => new HttpProblem(403, 'forbidden', 'Hub serves its repositories read-only: git fetch works, git push does not');

function orchestrationOf(req: Request): string {
  const repository = String(req.params['repo']);
  const orchestrationId = orchestrationIdOf(repository);
  if (!orchestrationId) {
    throw new HubError('not_found', `no repository ${repository.slice(0, 100)}: Hub serves /${GIT_HTTP_PREFIX}/<orchestration id>.git`);
  }
  return orchestrationId;
}

/**
 * `git fetch` from Hub, git's smart HTTP protocol, read-only, mounted at `/git` behind the token
 * guard (and before the JSON body parser, which must not read git's bodies):
 * - `GET /git/<id>.git/info/refs?service=git-upload-pack` refreshes the orchestration's repository
 *   from the object store, then lets git http-backend advertise its refs;
 * - `POST /git/<id>.git/git-upload-pack` lets it send the pack;
 * - anything about git-receive-pack is 403; any other path is 404.
 */
@Injectable()
export class GitSmartHttp {
  constructor(
    private readonly repositories: OrchestrationRepositories,
    private readonly backend: GitHttpBackend,
  ) {}

  router(): Router {
    const router = Router({ caseSensitive: true, strict: true });
    router.get('/:repo/info/refs', (req, res) => this.advertiseRefs(req, res));
    router.post(`/:repo/${UPLOAD_PACK}`, (req, res) => this.uploadPack(req, res));
    router.all('/:repo/git-receive-pack', () => {
      throw readOnly();
    });
    router.use((req) => {
      throw new HubError('not_found', `no route ${req.method} ${req.originalUrl.split('?')[0]} (git fetch only: info/refs and ${UPLOAD_PACK})`);
    });
    return router;
  }

  private async advertiseRefs(req: Request, res: Response): Promise<void> {
    const service = req.query['service'];
    if (service === 'git-receive-pack') throw readOnly();
    if (service !== UPLOAD_PACK) {
      throw new HubError('not_found', `only git's smart HTTP protocol is served: info/refs?service=${UPLOAD_PACK}`);
    }
    const orchestrationId = orchestrationOf(req);
    await this.repositories.refresh(orchestrationId);
    await this.serve(req, res, orchestrationId, 'info/refs', `service=${UPLOAD_PACK}`);
  }

  private async uploadPack(req: Request, res: Response): Promise<void> {
    const orchestrationId = orchestrationOf(req);
    if (!(await this.repositories.has(orchestrationId))) {
      throw new HubError('not_found', `orchestration ${orchestrationId} has no repository yet: a fetch starts with info/refs`);
    }
    await this.serve(req, res, orchestrationId, UPLOAD_PACK, '');
  }

  private serve(req: Request, res: Response, orchestrationId: string, path: string, queryString: string): Promise<void> {
    const pathInfo = `/${repositoryNameOf(orchestrationId)}/${path}`;
    return this.backend.serve(req, res, { projectRoot: this.repositories.root, pathInfo, queryString });
  }
}
