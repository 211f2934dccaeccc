import { describe, expect, it } from 'vitest';
import { archiveObjectKey, expandPrefix, formatTimestamp } from '../../local/standins/firehose/object-key';

const AT = Date.UTC(2024, 0, 2, 3, 4, 5, 678); // 2024-01-02T03:04:05.678Z

describe('Function: archiveObjectKey', () => {
  it('lays a GZIP object out as <prefix>YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>.gz in UTC', () => {
    // Act
    const key = archiveObjectKey({
      prefix: 'events/',
      streamName: 'events-archive',
      firstArrivalAt: AT,
      uuid: '0f8fad5b-d9cb-469f-a165-70867728950e',
      compression: 'GZIP',
    });

    // Assess
    expect(key).toBe(
      'events/2024/01/02/03/events-archive-1-2024-01-02-03-04-05-0f8fad5b-d9cb-469f-a165-70867728950e.gz',
    );
  });

  it('expands the error output prefix with the error type and its timestamp expression', () => {
    // Act
    const key = archiveObjectKey({
      prefix: 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/',
      streamName: 's',
      firstArrivalAt: AT,
      uuid: 'u',
      compression: 'UNCOMPRESSED',
      errorOutputType: 's3-delivery-failed',
    });

    // Assess
    expect(key).toBe('errors/s3-delivery-failed/2024/01/02/03/s-1-2024-01-02-03-04-05-u');
  });
});

describe('Function: expandPrefix', () => {
  it('appends YYYY/MM/DD/HH/ only when the prefix has no timestamp expression', () => {
    expect(expandPrefix('', AT)).toBe('2024/01/02/03/');
    expect(expandPrefix('raw/', AT)).toBe('raw/2024/01/02/03/');
    expect(expandPrefix('raw/day=!{timestamp:yyyy-MM-dd}/', AT)).toBe('raw/day=2024-01-02/');
  });
});

describe('Function: formatTimestamp', () => {
  it('uses UTC and zero-pads every field', () => {
    expect(formatTimestamp('yyyy-MM-dd HH:mm:ss', Date.UTC(2031, 11, 31, 23, 59, 9))).toBe(
      '2031-12-31 23:59:09',
    );
  });
});
