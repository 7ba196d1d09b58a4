"""`wordcount`: how many times each word occurs in payload.text (case-folded), and the most common ones."""

import re
from collections import Counter

from aitbc_miner.runners import PayloadError, Runner

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
MAX_TEXT = 50_000


class WordCountRunner(Runner):
    type = "wordcount"
    description = "counts the words of payload.text; payload.top (1..100) most common are listed"

    def validate(self, payload):
        text, top = payload.get("text"), payload.get("top", 5)
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise PayloadError(f"payload.text must be a non-empty string of at most {MAX_TEXT} characters")
        if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= 100:
            raise PayloadError("payload.top must be an integer from 1 to 100")
        return {"text": text, "top": top}

    def estimate_gpu_seconds(self, payload):
        return 0.1 + len(payload["text"]) / 1e6

    def run(self, payload, device):
        counts = Counter(word.casefold() for word in WORD.findall(payload["text"]))
        return {
            "words": sum(counts.values()),
            "distinct": len(counts),
            "top": [[word, n] for word, n in counts.most_common(payload["top"])],
        }
