package llmplanner

import (
	"encoding/json"
	"strings"

	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/text"
)

// ReportTool is the tool the model ends with: its arguments are the typed
// report (plan.Report), so nothing downstream parses the model's prose. It is
// the adapter's, not the platform's: it never reaches the tool registry.
const ReportTool = "report"

// reportArgs is the report tool's arguments as the model writes them.
type reportArgs struct {
	Diagnosis lines  `json:"diagnosis"`
	Cause     string `json:"cause"`
	Decision  string `json:"decision"`
	FollowUp  string `json:"followUp"`
}

// lines reads a list of strings, or one string (a model's shortcut) as one line.
type lines []string

func (l *lines) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = lines{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

const reportSchema = `{"type":"object","required":["diagnosis","cause","decision"],"properties":{` +
	`"diagnosis":{"type":"array","items":{"type":"string"},"description":"facts found, one each"},` +
	`"cause":{"type":"string"},"decision":{"type":"string","description":"action taken or decided, and why"},` +
	`"followUp":{"type":"string","description":"what people should do next"}}}`

func reportSpec() llm.ToolSpec {
	return llm.ToolSpec{Name: ReportTool, Parameters: json.RawMessage(reportSchema),
		Description: "Your final answer: call it once, last, instead of answering in prose."}
}

// maxReportField bounds each part of a model's report.
const maxReportField = 2000

// readReport decodes the report tool's arguments; a report that cannot be read
// keeps the model's words and says what was wrong, never silently nothing.
func readReport(args, said string) plan.Report {
	var a reportArgs
	if err := json.Unmarshal([]byte(args), &a); err != nil {
		return plan.Report{Text: strings.TrimSpace(said + "\n(the model's report could not be read: " + text.Clip(err.Error(), 200) + ")")}
	}
	r := plan.Report{Cause: text.Clip(a.Cause, maxReportField), Decision: text.Clip(a.Decision, maxReportField),
		FollowUp: text.Clip(a.FollowUp, maxReportField), Text: strings.TrimSpace(said)}
	for _, d := range a.Diagnosis {
		if d = strings.TrimSpace(d); d != "" {
			r.Diagnosis = append(r.Diagnosis, text.Clip(d, maxReportField))
		}
	}
	return r
}
