declare module 'parse-prometheus-text-format' {
  export interface MetricFamily {
    name: string
    help: string
    type: string
    metrics: Array<Record<string, unknown>>
  }
  export default function parsePrometheusTextFormat(text: string): MetricFamily[]
}
