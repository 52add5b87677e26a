#include <libxml/xmlversion.h>
// Foundation and libxml2 clash over ICU types when libxml2 exposes its ICU support.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <libxml/xmlschemas.h>

// xmlFree is a global function pointer, which Swift 6 treats as shared mutable state.
static inline void ctxmem_xml_free(void *pointer) { xmlFree(pointer); }
