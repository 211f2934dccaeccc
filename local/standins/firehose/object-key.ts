/**
 * S3 keys as Firehose writes them:
 *   <prefix>YYYY/MM/DD/HH/<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>[.gz]
 * The time is the UTC arrival time of the object's first record. A prefix with `!{timestamp:...}`
 * expressions is expanded instead of getting the default `YYYY/MM/DD/HH/`, and
 * `!{firehose:error-output-type}` names why a record went to the error output prefix.
 * Pure: time and uuid are parameters.
 */

export interface ObjectKeyInput {
  readonly prefix: string;
  readonly streamName: string;
  readonly firstArrivalAt: number;
  readonly uuid: string;
  readonly compression: 'GZIP' | 'UNCOMPRESSED';
  readonly errorOutputType?: string;
  readonly version?: number;
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** Formats with the Java DateTimeFormatter letters Firehose accepts: yyyy MM dd HH mm ss. */
export function formatTimestamp(pattern: string, at: number): string {
  const date = new Date(at);
  return pattern.replace(/yyyy|MM|dd|HH|mm|ss/g, (token) => {
    switch (token) {
      case 'yyyy':
        return pad(date.getUTCFullYear(), 4);
      case 'MM':
        return pad(date.getUTCMonth() + 1);
      case 'dd':
        return pad(date.getUTCDate());
      case 'HH':
        return pad(date.getUTCHours());
      case 'mm':
        return pad(date.getUTCMinutes());
      default:
        return pad(date.getUTCSeconds());
    }
  });
}

export function expandPrefix(prefix: string, at: number, errorOutputType?: string): string {
  const hasTimestamp = prefix.includes('!{timestamp:');
  const expanded = prefix
    .replace(/!\{timestamp:([^}]*)\}/g, (_match, pattern: string) => formatTimestamp(pattern, at))
    .replace(/!\{firehose:error-output-type\}/g, errorOutputType ?? 'unknown')
    .replace(/!\{firehose:random-string\}/g, () => Math.random().toString(36).slice(2, 13));
  return hasTimestamp ? expanded : `${expanded}${formatTimestamp('yyyy/MM/dd/HH/', at)}`;
}

export function archiveObjectKey(input: ObjectKeyInput): string {
  const directory = expandPrefix(input.prefix, input.firstArrivalAt, input.errorOutputType);
  const stamp = formatTimestamp('yyyy-MM-dd-HH-mm-ss', input.firstArrivalAt);
  const extension = input.compression === 'GZIP' ? '.gz' : '';
  return `${directory}${input.streamName}-${input.version ?? 1}-${stamp}-${input.uuid}${extension}`;
}
