import { describe, expect, it } from 'vitest';
import { equalitySql, idInSql, sqlString } from './lance-sql';

describe('lance SQL fragments', () => {
  it('doubles single quotes and leaves backslashes alone', () => {
    expect(sqlString("it's a \\'test'")).toBe("'it''s a \\''test'''");
  });

  it('joins equality terms with AND on backtick-quoted columns', () => {
    expect(equalitySql({ category: 'dress', color: "o'range" })).toBe(
      "`category` = 'dress' AND `color` = 'o''range'",
    );
    expect(equalitySql({})).toBeUndefined();
  });

  it('lists ids for IN', () => {
    expect(idInSql(['a', "b'c"])).toBe("id IN ('a', 'b''c')");
  });
});
