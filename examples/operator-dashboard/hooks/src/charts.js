// The operator dashboard's chart hook (`phx-hook="OpsCharts"`): one uPlot chart per metric,
// one line per tenant, fed by the view's `ops:sample` push events (one a second:
// `{t: unix seconds, tenants: {name: {instances, events_per_sec, errors, memory_mib,
// fuel_per_sec}}}`). Bundled with uPlot by esbuild into ../charts.js (`npm run build`), which
// the app ships as a client hook; `cargo xtask test` checks the bundle is current.
import uPlot from "uplot"

// [key in a sample, chart title]
const METRICS = [
  ["instances", "Live instances"],
  ["events_per_sec", "Events / s"],
  ["errors", "Errors (total)"],
  ["memory_mib", "Instance memory (MiB)"],
  ["fuel_per_sec", "Fuel / s"],
]
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"]
// Points kept per line: two minutes at one sample a second.
const KEEP = 120

// 1234567 → "1.2M": y-axis labels that fit.
const compact = (v) => {
  const a = Math.abs(v)
  if (a >= 1e9) return (v / 1e9).toFixed(1) + "G"
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M"
  if (a >= 1e4) return (v / 1e3).toFixed(0) + "k"
  return String(Math.round(v * 10) / 10)
}

export const OpsCharts = {
  mounted() {
    this.times = []
    // tenant name → metric key → values (null where the tenant had no sample)
    this.lines = new Map()
    this.charts = []
    this.names = ""
    this.handleEvent("ops:sample", (sample) => this.add(sample))
  },

  destroyed() {
    this.charts.forEach((chart) => chart.destroy())
    this.charts = []
  },

  add({t, tenants}) {
    this.times.push(t)
    for (const name of Object.keys(tenants)) {
      if (!this.lines.has(name)) {
        const line = {}
        for (const [key] of METRICS) line[key] = new Array(this.times.length - 1).fill(null)
        this.lines.set(name, line)
      }
    }
    for (const [name, line] of this.lines) {
      for (const [key] of METRICS) line[key].push(tenants[name] ? tenants[name][key] : null)
    }
    if (this.times.length > KEEP) {
      this.times.shift()
      for (const line of this.lines.values()) for (const [key] of METRICS) line[key].shift()
    }
    const names = [...this.lines.keys()].sort().join("\n")
    if (names !== this.names) {
      this.names = names
      this.build()
    } else {
      this.charts.forEach((chart, i) => chart.setData(this.data(METRICS[i][0])))
    }
    this.el.dataset.points = String(this.times.length)
  },

  data(key) {
    const names = [...this.lines.keys()].sort()
    return [this.times.slice(), ...names.map((name) => this.lines.get(name)[key].slice())]
  },

  build() {
    this.destroyed()
    this.el.replaceChildren()
    const names = [...this.lines.keys()].sort()
    const width = Math.max(260, Math.floor((this.el.clientWidth || 900) / 2) - 32)
    for (const [key, title] of METRICS) {
      const box = document.createElement("div")
      box.className = "ops-chart"
      box.dataset.metric = key
      this.el.appendChild(box)
      const series = [{}, ...names.map((name, i) => ({
        label: name,
        stroke: COLORS[i % COLORS.length],
        width: 2,
        spanGaps: false,
      }))]
      const opts = {
        title,
        width,
        height: 180,
        series,
        scales: {x: {time: true}, y: {range: (_u, min, max) => [0, Math.max(1, max * 1.1)]}},
        axes: [{}, {size: 56, values: (_u, ticks) => ticks.map(compact)}],
        legend: {show: true, live: false},
        cursor: {drag: {x: false, y: false}},
      }
      this.charts.push(new uPlot(opts, this.data(key), box))
    }
  },
}
