import { describe, expect, it } from 'vitest';
import { PmipError } from '../../../orchestrator/errors.js';
import { requireTool, whichTool } from '../../../orchestrator/system/tools.js';

describe('system tools', () => {
  it('finds a tool that exists', () => {
    expect(whichTool('sh')).toMatch(/\/sh$/);
  });

  it('names the Debian package of a missing tool', () => {
    // a name no machine has, mapped like the real ones: the hint is the package
    let err: unknown;
    try {
      requireTool('pmiplab-no-such-tool');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PmipError);
    expect((err as PmipError).message).toBe("'pmiplab-no-such-tool' is not installed");
    expect((err as PmipError).hint).toBe('apt-get install pmiplab-no-such-tool');
    expect((err as PmipError).exitCode).toBe(1);
  });
});
