import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDirectory } from './directory.js';

const DEPLOY = fileURLToPath(new URL('../../../../deploy/', import.meta.url));

describe('the shipped directory examples', () => {
  it('deploy/directory.example.yaml is valid and says what it documents', () => {
    const dir = parseDirectory(readFileSync(`${DEPLOY}directory.example.yaml`, 'utf8'), 'yaml', 'directory.example.yaml');
    expect(dir.lookup(['tke:100012347138'])?.displayName).toBe('Wang Wei');
    expect(dir.lookup(['aws:123456789012:role/GitHubActionsDeployer/run-7'])?.kind).toBe('controller');
    expect(dir.teamForNamespace('web-shop')).toBe('web');
  });

  it('deploy/directory.example.csv is valid', () => {
    const dir = parseDirectory(readFileSync(`${DEPLOY}directory.example.csv`, 'utf8'), 'csv', 'directory.example.csv');
    expect(dir.lookup(['tke:100012347138'])?.team).toBe('infra');
  });
});
