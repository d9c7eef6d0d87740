import { relationsTree, selectTree } from './find-options.util';

describe('relationsTree / selectTree', () => {
  it('turns dotted paths into the nested object form both TypeORM majors accept', () => {
    expect(relationsTree(['company', 'company.owner', 'tags'])).toEqual({
      company: { owner: true },
      tags: true,
    });
    expect(relationsTree(['a.b.c', 'a'])).toEqual({ a: { b: { c: true } } });
  });

  it('keeps a plain column list flat', () => {
    expect(selectTree(['resourceId', 'crmId'])).toEqual({
      resourceId: true,
      crmId: true,
    });
  });
});
