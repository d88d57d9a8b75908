import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {parseListQuery, parseSort, parseTimeRange, resumeFlags} from '../../../dist/api/list-query.js'

const fields = ['timestamp', 'createdAt', 'id']
const now = () => Date.parse('2025-12-03T10:00:00Z')
const usage = (pattern: RegExp) => (e: {exitCode: number; message: string}) => e.exitCode === 2 && pattern.test(e.message)

describe('list query', () => {
  test('one page by default, leaving the size to the server', () => {
    const q = parseListQuery({}, {sortFields: fields, now})
    assert.deepEqual(q, {query: {sort: undefined, from: undefined, to: undefined}, size: undefined, startPage: 0, limit: undefined, single: true, all: false})
    assert.equal(parseListQuery({page: '3', size: '7'}, {sortFields: fields}).startPage, 3)
    assert.equal(parseListQuery({page: '3', size: '7'}, {sortFields: fields}).size, 7)
  })
  test('--all walks 100 at a time; --limit asks for no more than it needs', () => {
    assert.equal(parseListQuery({all: true}, {sortFields: fields}).size, 100)
    assert.equal(parseListQuery({all: true}, {sortFields: fields}).single, false)
    assert.equal(parseListQuery({limit: '5'}, {sortFields: fields}).size, 5)
    assert.equal(parseListQuery({limit: '500'}, {sortFields: fields}).size, 100)
    assert.equal(parseListQuery({limit: '5', size: '50'}, {sortFields: fields}).size, 50)
    assert.equal(parseListQuery({all: true, limit: '500'}, {sortFields: fields}).limit, 500)
  })
  test('--size 1..100, --page from 0, --limit from 1, whole numbers', () => {
    for (const size of ['0', '101', '2.5', 'ten', '-1']) {
      assert.throws(() => parseListQuery({size}, {sortFields: fields}), usage(/^invalid --size ".*": must be a whole number from 1 to 100$/))
    }
    assert.throws(() => parseListQuery({page: '-1'}, {sortFields: fields}), usage(/invalid --page "-1": must be a whole number from 0/))
    assert.throws(() => parseListQuery({limit: '0'}, {sortFields: fields}), usage(/invalid --limit "0"/))
  })
  test('--sort field[,asc|desc] with a known field', () => {
    assert.equal(parseSort('timestamp,desc', fields), 'timestamp,desc')
    assert.equal(parseSort('CreatedAt,ASC', fields), 'createdAt,asc')
    assert.equal(parseSort('id', fields), 'id')
    assert.throws(() => parseSort('price,desc', fields), usage(/unknown field "price"; use field,asc\|desc with field one of timestamp, createdAt, id/))
    assert.throws(() => parseSort('timestamp,up', fields), usage(/invalid --sort "timestamp,up": use field,asc\|desc/))
    assert.throws(() => parseSort('', fields), usage(/invalid --sort/))
  })
  test('times: RFC 3339 or a duration ago, normalised to UTC; --from before --to', () => {
    assert.deepEqual(parseTimeRange({from: '2h', to: '2025-12-03T11:00:00+01:00'}, now), {from: '2025-12-03T08:00:00Z', to: '2025-12-03T10:00:00Z'})
    assert.throws(() => parseTimeRange({from: '1h', to: '2h'}, now), usage(/--from \(2025-12-03T09:00:00Z\) must be before --to \(2025-12-03T08:00:00Z\)/))
    assert.throws(() => parseTimeRange({from: '2025-12-03T10:00:00Z', to: '2025-12-03T10:00:00Z'}, now), usage(/must be before --to/))
    assert.throws(() => parseTimeRange({from: 'yesterday'}, now), usage(/invalid --from "yesterday": use RFC 3339/))
    assert.throws(() => parseTimeRange({to: '2025-02-30T00:00:00Z'}, now), usage(/invalid --to/))
  })
  test('resume flags continue the same walk, with the time range spelled out', () => {
    const q = parseListQuery({all: true, from: '2h'}, {sortFields: fields, now})
    assert.equal(resumeFlags(q, 7, 700), '--page 7 --from 2025-12-03T08:00:00Z --size 100 --all')
    const limited = parseListQuery({limit: '250', size: '100'}, {sortFields: fields, now})
    assert.equal(resumeFlags(limited, 2, 200), '--page 2 --size 100 --limit 50')
  })
})
