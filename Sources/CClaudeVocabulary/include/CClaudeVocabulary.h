#ifndef CCLAUDE_VOCABULARY_H
#define CCLAUDE_VOCABULARY_H

/// Claude 2's BPE vocabulary as raw bytes (scripts/gen-claude-vocabulary): for each token, its
/// length as two little-endian bytes, then its bytes. Used by the default token estimator.
const unsigned char *ctxmem_claude_vocabulary(void);
/// The size of that blob in bytes.
unsigned long ctxmem_claude_vocabulary_size(void);
/// How many tokens it holds.
unsigned long ctxmem_claude_vocabulary_count(void);

#endif
