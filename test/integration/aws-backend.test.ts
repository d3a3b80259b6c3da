import { startLambdaEmulator } from '../../src/dev/lambda-emulator.js';
import { S3RVER_CREDENTIALS, startS3Emulator } from '../../src/dev/s3-emulator.js';
import { startThrottleProxy } from '../../src/dev/throttle-proxy.js';
import { awsBackendSuite } from '../helpers/aws-backend-suite.js';

// The AWS backend end to end on loopback: the driver ships the job bundle to S3 (s3rver) and invokes
// the built runtime handler through the Lambda Invoke API (serverless-offline). Proxies in front of
// both throttle as AWS does; the function's own S3 calls go through the S3 proxy too.
awsBackendSuite('the aws backend against emulators', async () => {
  const bucket = 'fanout-it';
  const s3 = await startS3Emulator({ buckets: [bucket] });
  const s3Proxy = await startThrottleProxy(0, 's3');
  s3Proxy.setUpstream(Number(new URL(s3.endpoint).port));
  const env = {
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: s3Proxy.endpoint,
  };
  const lambda = await startLambdaEmulator({ environment: env });
  return {
    bucket,
    functionName: 'fanout-runtime',
    env: { ...env, AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint },
    lambda,
    s3: s3Proxy,
    async stop() {
      await lambda.stop();
      await s3Proxy.close();
      await s3.stop();
    },
  };
});
