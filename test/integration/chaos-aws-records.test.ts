import { chaosAwsSuite } from '../helpers/chaos-aws-suite.js';

// The example jobs over records (CSV orders, JSONL documents) under faults on the AWS backend
// against the emulators, for two seeds (see the suite); chaos-aws-text.test.ts runs the other three.
chaosAwsSuite(['revenue-by-country', 'inverted-index']);
