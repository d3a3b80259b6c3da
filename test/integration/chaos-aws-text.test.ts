import { chaosAwsSuite } from '../helpers/chaos-aws-suite.js';

// The example jobs over text (word counts, access logs) under faults on the AWS backend against the
// emulators, for two seeds (see the suite); chaos-aws-records.test.ts runs the other two.
chaosAwsSuite(['wordcount', 'wordcount-js', 'top-urls']);
