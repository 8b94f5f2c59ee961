#!/usr/bin/env node
// Runs cdk-nag's AwsSolutions pack over synthesized CloudFormation templates.
//
// The .NET cdk-nag package does not exist here, so the C# app records acknowledgements as resource metadata
// (cdk_nag.rules_to_suppress, written by NagAcknowledgements.Add) and this script replays each template through
// aws-cdk-lib's CfnInclude, turns that metadata into Validations.of(resource).acknowledge(...) and lets cdk-nag
// judge it. A template with acknowledgements is checked twice, without and with them, so the result shows what the
// acknowledgements hide and which of them no longer match any finding (stale).
//
// Usage: node scripts/checks/cdk-nag.mjs <cdk.out folder | x.template.json>...
// Prints one JSON document on stdout:
//   { templates: [{ template, findingsBefore, findingsAfter, acknowledgements, invalidAcknowledgements }],
//     summary: { templates, findingsBefore, findingsAfter, acknowledgements, staleAcknowledgements,
//                invalidAcknowledgements } }
// where a finding is { ruleId, logicalId, severity, message } and an acknowledgement is
// { logicalId, id, appliesTo, ruleId, reason, matched }.
// Exit code: 0 clean; 1 unacknowledged findings, stale or invalid acknowledgements; 2 usage or tool error.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MIN_REASON_LENGTH = 10;

class ToolError extends Error {}

// Loaded inside main's error handling: a checkout without `npm ci` must say so, not crash with exit code 1.
function loadCdk() {
  const require = createRequire(import.meta.url);
  try {
    return {
      cdk: require('aws-cdk-lib'),
      CfnInclude: require('aws-cdk-lib/cloudformation-include').CfnInclude,
      AwsSolutionsChecks: require('cdk-nag').AwsSolutionsChecks,
    };
  } catch (error) {
    throw new ToolError(`aws-cdk-lib or cdk-nag is not installed (${error.message}): run scripts/setup.sh.`);
  }
}

function templatePaths(args) {
  const found = [];
  for (const arg of args) {
    if (!fs.existsSync(arg)) {
      throw new ToolError(`${arg} does not exist: pass a cdk.out folder or a *.template.json file.`);
    }
    if (fs.statSync(arg).isDirectory()) {
      found.push(...templatesUnder(arg));
    } else {
      found.push(arg);
    }
  }
  if (found.length === 0) {
    throw new ToolError(`No *.template.json under ${args.join(', ')}: synthesize first.`);
  }
  return found.map((p) => path.resolve(p)).sort();
}

// Nested cloud assemblies (stages) live in assembly-* folders; asset.* folders hold bundled code, not stacks.
function templatesUnder(dir) {
  const result = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name.startsWith('assembly-')) {
      result.push(...templatesUnder(full));
    } else if (entry.isFile() && entry.name.endsWith('.template.json')) {
      result.push(full);
    }
  }
  return result;
}

// One acknowledgement per finding id: cdk-nag 3 matches `Rule[finding]` exactly and has no rule-wide wildcard, so
// `applies_to: [a, b]` (the cdk-nag 2 form) becomes `Rule[a]` and `Rule[b]`.
function readAcknowledgements(template) {
  const valid = [];
  const invalid = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const rules = resource.Metadata?.cdk_nag?.rules_to_suppress;
    if (rules === undefined) {
      continue;
    }
    if (!Array.isArray(rules)) {
      invalid.push({ logicalId, problem: 'cdk_nag.rules_to_suppress is not a list' });
      continue;
    }
    for (const rule of rules) {
      const problem = acknowledgementProblem(rule);
      if (problem) {
        invalid.push({ logicalId, id: rule?.id ?? null, problem });
        continue;
      }
      const findings = rule.applies_to ?? [];
      const ruleIds = findings.length === 0 ? [rule.id] : findings.map((finding) => `${rule.id}[${finding}]`);
      for (const ruleId of ruleIds) {
        valid.push({ logicalId, id: rule.id, appliesTo: findings, ruleId, reason: rule.reason });
      }
    }
  }
  return { valid, invalid };
}

function acknowledgementProblem(rule) {
  if (rule === null || typeof rule !== 'object') {
    return 'not an object';
  }
  if (typeof rule.id !== 'string' || !/^[A-Za-z0-9]+-[A-Za-z0-9]+$/.test(rule.id)) {
    return 'id must name one rule, such as AwsSolutions-S1';
  }
  if (typeof rule.reason !== 'string' || rule.reason.trim().length < MIN_REASON_LENGTH) {
    return `reason must say why in at least ${MIN_REASON_LENGTH} characters`;
  }
  if (rule.applies_to !== undefined
      && (!Array.isArray(rule.applies_to) || !rule.applies_to.every((a) => typeof a === 'string' && a.length > 0))) {
    return 'applies_to must be a list of finding strings such as Resource::*';
  }
  return undefined;
}

function runPack({ cdk, CfnInclude, AwsSolutionsChecks }, templateFile, acknowledgements) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-nag-'));
  try {
    const app = new cdk.App({ outdir });
    const stack = new cdk.Stack(app, 'Checked', { synthesizer: new cdk.BootstraplessSynthesizer() });
    const include = new CfnInclude(stack, 'Template', { templateFile });
    const logicalIdByPath = new Map();
    for (const logicalId of Object.keys(readTemplate(templateFile).Resources ?? {})) {
      logicalIdByPath.set(include.getResource(logicalId).node.path, logicalId);
    }
    for (const ack of acknowledgements) {
      cdk.Validations.of(include.getResource(ack.logicalId)).acknowledge({ id: ack.ruleId, reason: ack.reason });
    }
    const pack = new AwsSolutionsChecks(app);
    cdk.Validations.of(app).addPlugins(pack);
    synthQuietly(app);
    return findingsFromReport(path.join(outdir, 'validation-report.json'), pack.name, logicalIdByPath);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

// The app prints its own rendering of the report on stderr before throwing; the JSON file is the result we use.
function synthQuietly(app) {
  const original = console.error;
  const printed = [];
  console.error = (...args) => printed.push(args.join(' '));
  try {
    app.synth();
  } catch (error) {
    if (!String(error?.message).startsWith('Validation failed')) {
      throw new ToolError(`Synthesis of the included template failed: ${error?.message}\n${printed.join('\n')}`);
    }
  } finally {
    console.error = original;
  }
}

function findingsFromReport(reportFile, pluginName, logicalIdByPath) {
  if (!fs.existsSync(reportFile)) {
    return [];
  }
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
  const findings = [];
  for (const pluginReport of report.pluginReports ?? []) {
    if (pluginReport.pluginName !== pluginName) {
      continue;
    }
    if (pluginReport.conclusion === 'failure' && (pluginReport.violations ?? []).length === 0) {
      throw new ToolError(`cdk-nag failed instead of reporting: ${JSON.stringify(pluginReport.metadata ?? pluginReport)}`);
    }
    for (const violation of pluginReport.violations ?? []) {
      for (const construct of violation.violatingConstructs ?? []) {
        findings.push({
          ruleId: violation.ruleName,
          logicalId: logicalIdByPath.get(construct.constructPath) ?? construct.constructPath,
          severity: violation.severity,
          message: violation.description,
        });
      }
    }
  }
  return findings.sort((a, b) => a.logicalId.localeCompare(b.logicalId) || a.ruleId.localeCompare(b.ruleId));
}

function readTemplate(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ToolError(`${file} is not a JSON CloudFormation template: ${error.message}`);
  }
}

function checkTemplate(tools, file) {
  const { valid, invalid } = readAcknowledgements(readTemplate(file));
  const findingsBefore = runPack(tools, file, []);
  const findingsAfter = valid.length === 0 ? findingsBefore : runPack(tools, file, valid);
  const acknowledgements = valid.map((ack) => ({
    ...ack,
    matched: findingsBefore.some((f) => f.logicalId === ack.logicalId && f.ruleId === ack.ruleId),
  }));
  return { template: file, findingsBefore, findingsAfter, acknowledgements, invalidAcknowledgements: invalid };
}

function main(args) {
  if (args.length === 0 || args.includes('--help')) {
    process.stderr.write('Usage: node scripts/checks/cdk-nag.mjs <cdk.out folder | x.template.json>...\n');
    return 2;
  }
  const files = templatePaths(args);
  const tools = loadCdk();
  const templates = files.map((file) => checkTemplate(tools, file));
  const count = (select) => templates.reduce((n, t) => n + select(t).length, 0);
  const summary = {
    templates: templates.length,
    findingsBefore: count((t) => t.findingsBefore),
    findingsAfter: count((t) => t.findingsAfter),
    acknowledgements: count((t) => t.acknowledgements),
    staleAcknowledgements: count((t) => t.acknowledgements.filter((a) => !a.matched)),
    invalidAcknowledgements: count((t) => t.invalidAcknowledgements),
  };
  process.stdout.write(`${JSON.stringify({ templates, summary }, null, 2)}\n`);
  process.stderr.write(`cdk-nag AwsSolutions: ${summary.findingsBefore} findings without acknowledgements, `
    + `${summary.findingsAfter} with; ${summary.staleAcknowledgements} stale and `
    + `${summary.invalidAcknowledgements} invalid acknowledgements in ${summary.templates} template(s).\n`);
  const clean = summary.findingsAfter === 0 && summary.staleAcknowledgements === 0
    && summary.invalidAcknowledgements === 0;
  return clean ? 0 : 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  // Exit code 1 means findings, so anything unexpected must not surface as node's default exit code 1.
  process.stderr.write(`cdk-nag check: ${error instanceof ToolError ? error.message : error?.stack ?? error}\n`);
  process.exitCode = 2;
}
