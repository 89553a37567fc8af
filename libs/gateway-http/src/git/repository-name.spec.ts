import { orchestrationIdOf, repositoryNameOf } from './repository-name';

const ID = '0b0f6a52-3c1e-4a51-9d55-5a7c2a4f0e11';

describe('repository names', () => {
  it('are an orchestration id followed by .git, and nothing else', () => {
    expect(orchestrationIdOf(repositoryNameOf(ID))).toBe(ID);
    for (const name of [ID, `${ID}.git/`, `${ID.toUpperCase()}.git`, `../${ID}.git`, `${ID}.git.git`, '.git', `x${ID}.git`, `${ID}.GIT`]) {
      expect(orchestrationIdOf(name)).toBeNull();
    }
  });
});
