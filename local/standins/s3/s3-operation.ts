/** Names an S3 request by its REST shape (path-style), so faults can target e.g. only PutObject. */
import type { IncomingMessage } from 'node:http';

export function s3OperationOf(request: IncomingMessage): string {
  const url = new URL(request.url ?? '/', 'http://s3.local');
  const [bucket, ...rest] = url.pathname.split('/').filter(Boolean);
  const hasKey = rest.length > 0;
  const query = url.searchParams;
  switch (request.method) {
    case 'GET':
      if (!bucket) return 'ListBuckets';
      if (hasKey) return 'GetObject';
      return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    case 'PUT':
      if (!hasKey) return 'CreateBucket';
      if (query.has('partNumber')) return 'UploadPart';
      return request.headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
    case 'DELETE':
      return hasKey ? 'DeleteObject' : 'DeleteBucket';
    case 'HEAD':
      return hasKey ? 'HeadObject' : 'HeadBucket';
    case 'POST':
      if (query.has('delete')) return 'DeleteObjects';
      if (query.has('uploads')) return 'CreateMultipartUpload';
      if (query.has('uploadId')) return 'CompleteMultipartUpload';
      return 'PostObject';
    default:
      return request.method ?? 'UNKNOWN';
  }
}
