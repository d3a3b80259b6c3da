import { chaosAwsSuite } from '../helpers/chaos-aws-suite.js';

// The example jobs over records (CSV orders, JSONL documents, the map-only JSONL clean-up) under
// faults on the AWS backend against the emulators, for two seeds (see the suite);
// chaos-aws-text.test.ts runs the text ones.
chaosAwsSuite(['revenue-by-country', 'inverted-index', 'clean-logs']);
