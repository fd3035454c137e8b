package tui

import (
	"io"
	"math"
	"strconv"
	"strings"
)

// Chart is a metric against its threshold around one decision: the samples
// the guard judged, drawn as a one-line bar chart (0-100%), each bar in the
// tone of its side of the threshold.
type Chart struct {
	Title     string    // e.g. "2026-11-06 01:05 ai-data-labs/backend 3→4 (scale_up.cpu)"
	Metric    string    // e.g. "cpu"
	Values    []float64 // percentages, oldest first
	Threshold float64
	// Above says which side of the threshold fires the rule (true: above,
	// as scale up; false: below, as scale down).
	Above bool
	Rule  string
}

// bars are the eight heights of a bar, lowest first.
var bars = []rune("▁▂▃▄▅▆▇█")

// maxBars bounds a chart's width; older samples are dropped.
const maxBars = 48

// Sparkline is the bars of values (0-100) with no styling.
func Sparkline(values []float64) string {
	var b strings.Builder
	for _, v := range values {
		b.WriteRune(bar(v))
	}
	return b.String()
}

func bar(v float64) rune {
	switch {
	case math.IsNaN(v):
		return '·'
	case v <= 0:
		return bars[0]
	case v >= 100:
		return bars[len(bars)-1]
	}
	return bars[int(v/100*float64(len(bars)-1)+0.5)]
}

// WriteCharts writes each chart as a title line and a bar line:
//
//	cpu ▅▆▇███▇██ 85.0% · threshold 80% (scale_up.cpu) · 21/21 above
func WriteCharts(w io.Writer, charts []Chart, noColor bool) error {
	st := newStyles(newRenderer(w, noColor))
	var b strings.Builder
	for _, c := range charts {
		b.WriteString(renderChart(c, st))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func renderChart(c Chart, st styles) string {
	vals := c.Values
	if len(vals) > maxBars {
		vals = vals[len(vals)-maxBars:]
	}
	fires := func(v float64) bool {
		if c.Above {
			return v > c.Threshold
		}
		return v < c.Threshold
	}
	var line strings.Builder
	n := 0
	for _, v := range vals {
		tone := ToneDim
		if fires(v) {
			tone, n = ToneWarn, n+1
		}
		line.WriteString(st.tone(tone, string(bar(v))))
	}
	side := "above"
	if !c.Above {
		side = "below"
	}
	last := "no samples"
	if len(vals) > 0 {
		last = strconv.FormatFloat(vals[len(vals)-1], 'f', 1, 64) + "%"
	}
	legend := last + " · threshold " + strconv.FormatFloat(c.Threshold, 'g', -1, 64) + "% (" + c.Rule + ") · " +
		strconv.Itoa(n) + "/" + strconv.Itoa(len(vals)) + " " + side
	return st.heading.Render(c.Title) + "\n  " + st.dim.Render(c.Metric) + " " + line.String() + " " + legend + "\n"
}
