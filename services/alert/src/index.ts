export { loadRuleSources, readRuleSources, loadRulesDir, formatProblems, type RuleProblem, type RuleSource, type LoadedRules } from './rules/load-rules.js';
export type { CompiledRule } from './rules/compiled-rule.js';
export { runRuleTests, type RuleTestResult } from './engine/run-rule-tests.js';
export { RuleEngine, type EngineSnapshot } from './engine/rule-engine.js';
export { templateFields } from './engine/render-template.js';
export { notifierConfigSchema, type NotifierConfig } from './notifiers/registry.js';
export { buildAlert, type AlertDeps, type BuiltAlert } from './build-alert.js';
export { AlertMetrics } from './alert-metrics.js';
export { loadAlertConfig, parseNotifiers, alertConfigSchema, type AlertConfig } from './config.js';
