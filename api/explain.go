package api

import (
	"fmt"
	"strings"

	"daisuso/matching"
	"daisuso/people"
)

// explainText words an explanation for the household, in its language:
// languages and topics by name, the distance as its readers write
// decimals, and what the mentor still lacks of five after this match.
func explainText(lang, first string, e matching.Explanation, learners int) string {
	topics := make([]string, len(e.TopicsCovered))
	for i, t := range e.TopicsCovered {
		topics[i] = people.NameOf(people.Topics, t, lang)
	}
	language := people.NameOf(people.Languages, e.SharedLanguage, lang)
	still := max(0, e.MentorNeededLearners-learners)
	var b strings.Builder
	if lang == "en" {
		fmt.Fprintf(&b, "%s lives about %s km away", first, formatDecimal(lang, e.DistanceKm))
		if e.SharedLanguage != "" {
			fmt.Fprintf(&b, " and speaks %s", language)
		}
		if len(topics) > 0 {
			fmt.Fprintf(&b, "; can teach: %s", strings.Join(topics, ", "))
		}
		if still > 0 {
			fmt.Fprintf(&b, "; with you, %s needs %d more learners to reach 5", first, still)
		}
		return b.String() + "."
	}
	fmt.Fprintf(&b, "%s ở cách khoảng %s km", first, formatDecimal(lang, e.DistanceKm))
	if e.SharedLanguage != "" {
		// The names read "Tiếng H'Mông": in a sentence, lower case.
		fmt.Fprintf(&b, ", nói được %s", strings.ToLower(language[:1])+language[1:])
	}
	if len(topics) > 0 {
		fmt.Fprintf(&b, "; hướng dẫn được: %s", strings.Join(topics, ", "))
	}
	if still > 0 {
		fmt.Fprintf(&b, "; tính cả gia đình bạn, %s cần thêm %d người học nữa để đạt \"1 kèm 5\"", first, still)
	}
	return b.String() + "."
}
