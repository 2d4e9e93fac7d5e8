import type { Registry } from 'prom-client';
import type { HealthView } from '../health-view.js';
import { registerDynamicMetric, type DynamicSample } from './dynamic-metric.js';
import { prometheusLabels } from './label-names.js';

/**
 * What the alert metrics read; the `Alerting` class of
 * `provider-health/alerts` is one. Declared structurally, so metrics never
 * load the alerting modules.
 */
export interface AlertMetricsSource {
  /** The incidents firing now (only `rule` is read). */
  firing(): readonly { readonly rule: string }[];
  /** Delivery outcome counts since start, per notifier name, per result (`sent`, `failed` …). */
  counts(): Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Every rule's name, so a rule that never fired shows 0. Optional: without it a rule has a series from its first firing on. */
  ruleNames?(): readonly string[];
}

/**
 * `<p>provider_info{provider, <labels>} 1`: one series per registered
 * provider carrying its labels (sanitised, see `label-names.ts`), the
 * kube-state-metrics way: join it (`* on(provider) group_left(env)`) instead
 * of multiplying every other series by the label cardinality. @internal
 */
export function registerProviderInfo(view: HealthView, p: string, registry: Registry, names: string[]): void {
  names.push(`${p}provider_info`);
  registerDynamicMetric(registry, {
    name: `${p}provider_info`,
    help: 'One series per registered provider, value 1, carrying its labels (names sanitised to Prometheus rules).',
    type: 'gauge',
    samples: () =>
      view.registry.names().map((provider) => {
        const labels: Record<string, string> = { provider };
        for (const [name, value] of prometheusLabels(view.registry.labels(provider))) labels[name] = value;
        return { labels, value: 1 };
      }),
  });
}

/**
 * `<p>notifications_total{notifier,result}` (delivery outcomes since start)
 * and `<p>alerts_firing{rule}` (incidents firing per rule). No secret is
 * a label: notifiers appear by name only. @internal
 */
export function registerAlertMetrics(
  source: AlertMetricsSource,
  p: string,
  registry: Registry,
  names: string[],
): void {
  names.push(`${p}notifications_total`);
  registerDynamicMetric(registry, {
    name: `${p}notifications_total`,
    help: 'Notification delivery outcomes by notifier and result (sent, retrying, failed, expired, dropped, cancelled).',
    type: 'counter',
    samples: () => {
      const samples: DynamicSample[] = [];
      const counts = source.counts();
      for (const notifier of Object.keys(counts).sort()) {
        const results = counts[notifier] ?? {};
        for (const result of Object.keys(results).sort()) {
          samples.push({ labels: { notifier, result }, value: results[result] ?? 0 });
        }
      }
      return samples;
    },
  });
  // Rules seen firing, so a rule that stops firing shows 0 rather than vanishing.
  const seen = new Set<string>();
  names.push(`${p}alerts_firing`);
  registerDynamicMetric(registry, {
    name: `${p}alerts_firing`,
    help: 'Alert incidents firing now, per rule.',
    type: 'gauge',
    samples: () => {
      const firing = new Map<string, number>();
      for (const name of source.ruleNames?.() ?? []) seen.add(name);
      for (const { rule } of source.firing()) {
        seen.add(rule);
        firing.set(rule, (firing.get(rule) ?? 0) + 1);
      }
      return [...seen].sort().map((rule) => ({ labels: { rule }, value: firing.get(rule) ?? 0 }));
    },
  });
}
