package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/duet-company/ops-skill/internal/alert"
)

// suggestDistance is the Levenshtein distance within which a registered
// command or flag is suggested for a typo (cobra's own default).
const suggestDistance = 2

// UnknownCommandError reports a word that names no command of a command group.
type UnknownCommandError struct {
	Word        string   // what was typed
	Parent      string   // the command path of the group, e.g. "ops-skill tools"
	Suggestions []string // registered commands close to Word, best first
	Commands    []string // every command of the group, for when none is close
	Hint        string   // what to do instead, e.g. how to pass a one-word alert
}

// Error renders, for example:
//
//	unknown command "helth" for "ops-skill" — did you mean "health"?
func (e *UnknownCommandError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unknown command %q for %q", e.Word, e.Parent)
	switch {
	case len(e.Suggestions) > 0:
		b.WriteString(" — did you mean " + quotedList(e.Suggestions, "or") + "?")
	case len(e.Commands) > 0:
		b.WriteString("; its commands are " + quotedList(e.Commands, "and"))
	}
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

// UnknownFlagError reports a flag that the command does not have.
type UnknownFlagError struct {
	Err         error    // pflag's error, e.g. "unknown flag: --simualte"
	Suggestions []string // flags close to the one typed, with their dashes
}

// Error renders, for example:
//
//	unknown flag: --simualte — did you mean --simulate?
func (e *UnknownFlagError) Error() string {
	if len(e.Suggestions) == 0 {
		return e.Err.Error()
	}
	return e.Err.Error() + " — did you mean " + strings.Join(e.Suggestions, " or ") + "?"
}

// Unwrap returns pflag's error.
func (e *UnknownFlagError) Unwrap() error { return e.Err }

// unknownCommand is the usage error for a word under c that names no command.
func unknownCommand(c *cobra.Command, word, hint string) error {
	e := &UnknownCommandError{Word: word, Parent: c.CommandPath(), Suggestions: commandSuggestions(c, word), Hint: hint}
	if len(e.Suggestions) == 0 {
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				e.Commands = append(e.Commands, sub.Name())
			}
		}
	}
	return &ExitError{Code: ExitUsage, Err: e}
}

// commandSuggestions asks cobra which of c's commands are close to word.
func commandSuggestions(c *cobra.Command, word string) []string {
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = suggestDistance
	}
	var out []string
	for _, s := range c.SuggestionsFor(word) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// flagSuggestions asks cobra's suggestion machinery, which only knows
// commands, about flags: a throwaway command whose children are named after
// the flags gets the same distance and prefix rules as command typos.
func flagSuggestions(fs *pflag.FlagSet, typed string) []string {
	probe := &cobra.Command{SuggestionsMinimumDistance: suggestDistance}
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && f.Deprecated == "" {
			probe.AddCommand(&cobra.Command{Use: f.Name, Run: func(*cobra.Command, []string) {}})
		}
	})
	var out []string
	for _, s := range probe.SuggestionsFor(typed) {
		out = append(out, "--"+s)
	}
	return out
}

// flagError makes every flag error a usage error, and an unknown long flag one
// that suggests the flag meant.
func flagError(c *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if errors.As(err, &ne) && ne.GetSpecifiedShortnames() == "" {
		err = &UnknownFlagError{Err: err, Suggestions: flagSuggestions(c.Flags(), ne.GetSpecifiedName())}
	}
	return &ExitError{Code: ExitUsage, Err: err}
}

// commandWord refuses a lone word given to the root command: a word with no
// whitespace is a mistyped command far more often than an alert. Free text,
// "-" (standard input), a JSON payload and anything after "--" stay alerts.
func commandWord(cmd *cobra.Command, args []string) error {
	if len(args) != 1 || cmd.ArgsLenAtDash() == 0 {
		return nil
	}
	w := args[0]
	if w == "" || w == "-" || strings.ContainsFunc(w, unicode.IsSpace) || alert.LooksLikeJSON([]byte(w)) {
		return nil
	}
	return unknownCommand(cmd, w, fmt.Sprintf("a one-word alert goes after --: %s -- %s", cmd.CommandPath(), w))
}

// strictGroups walks the tree so that every command that only groups others
// prints its help when called bare and refuses any other word with
// suggestions; cobra alone prints the help and exits 0 for "tools lst".
// The help command gets the same treatment for its topics.
func strictGroups(c *cobra.Command) {
	for _, sub := range c.Commands() {
		strictGroups(sub)
	}
	switch {
	case c.HasParent() && c.Name() == "help" && c.Parent().Parent() == nil:
		c.Args = helpTopic
	case c.HasParent() && c.HasSubCommands() && !c.Runnable():
		c.Args = cobra.ArbitraryArgs
		c.DisableFlagsInUseLine = true // its usage is "tools [command]", not "tools [flags]"
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return unknownCommand(cmd, args[0], "")
		}
	}
}

// helpTopic refuses "help WORD" when WORD names no command.
func helpTopic(c *cobra.Command, args []string) error {
	target, rest, err := c.Root().Find(args)
	if err != nil || target == nil {
		return err
	}
	for _, w := range rest {
		if !strings.HasPrefix(w, "-") && target.HasSubCommands() {
			return unknownCommand(target, w, "")
		}
	}
	return nil
}

// quotedList renders `"a"`, `"a" or "b"`, `"a", "b" or "c"` (with "or" as conj).
func quotedList(items []string, conj string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}
