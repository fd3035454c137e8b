package provider

import "strings"

// MarkdownTable renders the table as the README shows it, between its
// <!-- providers:begin --> and <!-- providers:end --> markers: one row per
// provider with its wire format, endpoints, default model, how the last turn
// is asked and what else is particular to it.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| provider | wire | endpoints (LLM_ENDPOINT) | default model | last turn | notes | checked |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, p := range Profiles() {
		cells := []string{"`" + string(p.Name) + "`", p.Wire.String(), endpointsCell(p), modelCell(p), p.LastTurn.String(), notesCell(p), Checked}
		for i := range cells {
			cells[i] = strings.ReplaceAll(cells[i], "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

func endpointsCell(p Profile) string {
	parts := make([]string, 0, len(p.Endpoints))
	for _, e := range p.Endpoints {
		s := "`" + e.Name + "` " + e.URL
		if e.Note != "" {
			s += " (" + e.Note + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func modelCell(p Profile) string {
	if p.DefaultModel == "" {
		return "none: set LLM_MODEL"
	}
	return "`" + p.DefaultModel + "`"
}

// notesCell is the token limit field, the key, how reasoning effort is sent
// and the profile's notes.
func notesCell(p Profile) string {
	parts := []string{p.TokenLimit.String()}
	if !p.NeedsKey {
		parts = append(parts, "no key")
	}
	if p.Reasoning != "" {
		parts = append(parts, "effort: "+p.Reasoning)
	}
	if len(p.FinalRateLimits) > 0 {
		codes := make([]string, 0, len(p.FinalRateLimits))
		for _, c := range p.FinalRateLimits {
			codes = append(codes, c.Code)
		}
		parts = append(parts, "429 codes "+strings.Join(codes, ", ")+" not retried")
	}
	if p.Notes != "" {
		parts = append(parts, p.Notes)
	}
	return strings.Join(parts, "; ")
}
