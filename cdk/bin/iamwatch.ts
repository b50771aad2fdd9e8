#!/usr/bin/env -S npx tsx
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildIamwatchApp } from '../lib/app';
import { loadConfig } from '../lib/config';

const app = new App();
const config = loadConfig((key) => app.node.tryGetContext(key));
buildIamwatchApp(app, config);
// Synthesis fails on any unacknowledged AwsSolutions finding of the app's own stacks; the member
// stage is checked by test/cdk-nag.test.ts (findings inside a nested stage do not fail synth).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
