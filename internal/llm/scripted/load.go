package scripted

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// fileScript is the on-disk shape of a scripted model:
//
//	name: ideal-cpu
//	description: scales backend on the first reply
//	then: done            # done | repeat | cycle
//	steps:
//	  - tool_calls:
//	      - name: getServiceStatus
//	        arguments: {namespace: ai-data-labs, name: backend}   # mapping → JSON
//	      - name: scaleDeployment
//	        arguments: '{"replicas": 1000'                         # string: sent verbatim
//	  - content: Scaled backend from 3 to 4 replicas.
//	  - status: 429
//	    header: {Retry-After: "1"}
//	  - raw_body: '{"choices": ['
//	  - delay: 2s
//	    content: slow answer
//
// JSON files with the same keys are read too.
type fileScript struct {
	Name        string      `yaml:"name"`
	Description string      `yaml:"description"`
	Then        string      `yaml:"then"`
	Steps       []fileReply `yaml:"steps"`
}

type fileReply struct {
	Content      string            `yaml:"content"`
	ToolCalls    []fileToolCall    `yaml:"tool_calls"`
	Status       int               `yaml:"status"`
	ErrorCode    string            `yaml:"error_code"`
	Delay        time.Duration     `yaml:"delay"`
	RawBody      string            `yaml:"raw_body"`
	Header       map[string]string `yaml:"header"`
	FinishReason string            `yaml:"finish_reason"`
	Usage        *Usage            `yaml:"usage"`
}

type fileToolCall struct {
	Name      string    `yaml:"name"`
	Arguments yaml.Node `yaml:"arguments"`
}

// LoadScript reads a scripted model from a YAML or JSON file. Unknown keys
// are errors, so a typo in a script does not silently change the model.
func LoadScript(path string) (*ScriptFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	f, err := ParseScript(data)
	if err != nil {
		return nil, fmt.Errorf("script %s: %w", path, err)
	}
	return f, nil
}

// ParseScript parses a scripted model in the format LoadScript reads.
func ParseScript(data []byte) (*ScriptFile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var fs fileScript
	if err := dec.Decode(&fs); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty script")
		}
		return nil, err
	}
	out := &ScriptFile{Name: fs.Name, Description: fs.Description, Then: fs.Then}
	for i, s := range fs.Steps {
		r := Reply{
			Content: s.Content, Status: s.Status, ErrorCode: s.ErrorCode, Delay: s.Delay, RawBody: s.RawBody,
			Header: s.Header, FinishReason: s.FinishReason, Usage: s.Usage,
		}
		for j, tc := range s.ToolCalls {
			args, err := argumentsText(&tc.Arguments)
			if err != nil {
				return nil, fmt.Errorf("steps[%d].tool_calls[%d].arguments: %w", i, j, err)
			}
			r.ToolCalls = append(r.ToolCalls, ToolCall{Name: tc.Name, Arguments: args})
		}
		out.Steps = append(out.Steps, r)
	}
	if err := out.validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// argumentsText turns the arguments of a scripted call into the text the
// model sends: a string is kept verbatim (it may be broken JSON on purpose),
// a mapping or sequence is encoded as JSON in its written order, and a
// missing value is "{}".
func argumentsText(n *yaml.Node) (string, error) {
	switch {
	case n.Kind == 0:
		return "{}", nil
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
		return n.Value, nil
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, n); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func writeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.AliasNode:
		return writeJSON(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			key, _ := json.Marshal(n.Content[i].Value)
			buf.Write(key)
			buf.WriteByte(':')
			if err := writeJSON(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		buf.Write(b)
		return nil
	}
	return fmt.Errorf("line %d: unsupported YAML value", n.Line)
}
