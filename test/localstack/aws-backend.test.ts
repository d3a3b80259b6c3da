import { CreateFunctionCommand, GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { LocalstackContainer } from '@testcontainers/localstack';
import { startThrottleProxy } from '../../src/dev/throttle-proxy.js';
import { buildRuntimeZip } from '../../src/infra/runtime-zip.js';
import { awsBackendSuite } from '../helpers/aws-backend-suite.js';

// The same scenarios as test/integration/aws-backend.test.ts, against LocalStack: real S3 semantics
// and the Lambda service running the runtime zip that `mr deploy` ships. Run by `npm run
// test:localstack` (scripts/test-localstack.mjs), which skips where Docker is absent.
awsBackendSuite('the aws backend against LocalStack', async () => {
  const bucket = 'fanout-localstack';
  const functionName = 'fanout-runtime';
  // LocalStack runs each Lambda function in a container of its own, through the host's Docker socket.
  const container = await new LocalstackContainer('localstack/localstack:4')
    .withBindMounts([{ source: '/var/run/docker.sock', target: '/var/run/docker.sock' }])
    .start();
  const endpoint = container.getConnectionUri();
  const port = Number(new URL(endpoint).port);
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const region = 'us-east-1';
  await new S3Client({ endpoint, region, credentials, forcePathStyle: true }).send(
    new CreateBucketCommand({ Bucket: bucket }),
  );
  const lambdaClient = new LambdaClient({ endpoint, region, credentials });
  const zip = await buildRuntimeZip();
  await lambdaClient.send(
    new CreateFunctionCommand({
      FunctionName: functionName,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: 'arn:aws:iam::000000000000:role/fanout-runtime',
      Code: { ZipFile: zip.bytes },
      MemorySize: 1024,
      Timeout: 300,
    }),
  );
  for (let i = 0; i < 120; i++) {
    const { Configuration } = await lambdaClient.send(new GetFunctionCommand({ FunctionName: functionName }));
    if (Configuration?.State === 'Active') break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  // LocalStack does not throttle either: proxies in front of it do, for the driver's calls.
  const s3 = await startThrottleProxy(0, 's3');
  s3.setUpstream(port);
  const lambda = await startThrottleProxy(0, 'lambda');
  lambda.setUpstream(port);
  return {
    bucket,
    functionName,
    env: {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: region,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
    },
    lambda,
    s3,
    async stop() {
      await s3.close();
      await lambda.close();
      await container.stop();
    },
  };
});
