import { awsBackendSuite } from '../helpers/aws-backend-suite.js';
import { startAwsEmulators } from '../helpers/aws-emulators.js';

// The AWS backend end to end on loopback: the driver ships the job bundle to S3 (s3rver) and invokes
// the built runtime handler through the Lambda Invoke API (serverless-offline). Proxies in front of
// both throttle as AWS does; the function's own S3 calls go through the S3 proxy too.
awsBackendSuite('the aws backend against emulators', () => startAwsEmulators());
