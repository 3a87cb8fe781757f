"""The suite's own oracle: a minimal reader and writer of every wire structure of SPEC.md.

Written from protocol/SPEC.md alone and sharing nothing with `gossamer/` (a test walks every module
of `conformance/` and fails if one outside the reference target imports it): the suite judges an
implementation with this code, never with the implementation's own. One concept per module:

| module | what |
|---|---|
| `files` | where SPEC.md and the vectors are (a data file, no codec import) |
| `codes` | section 9's error codes, parsed from SPEC.md's table: name, u8 value, level |
| `errors` | `Rejected(code, clause)`, the one error |
| `cbor` | the well-formedness walk with the depth limit ([SER-2]); deterministic encoding |
| `layout` | capture, result and parameter layouts ([LAYOUT-*]) |
| `ids` | closure ids ([CID-1]) and trust ids ([TRUST-1], [TRUST-2]) |
| `slot` | headers, immediates, seqs, the connection config ([LAND-2], [LAND-4], [SLOT-3]) |
| `request` | request batches: forge, encode, pack, decode in [LAND-5]'s order, stub payloads ([FB-2]) |
| `response` | response batches: forge, encode ([RSP-4], [RSP-5]), decode ([RSP-6], [ERR-4]) |
| `frames` | fallback frames and the stream reader ([FB-3], [FB-6], [FB-7]) |
| `framing` | a u32 length, then the body: bootstrap messages ([BOOT-4]) and adapter frames ([ADPT-2]) |
| `bootstrap` | bootstrap messages, the hello, version negotiation ([BOOT-*]) |
| `states` | the slot state table of section 2.2, parsed from SPEC.md |
| `target` | the oracle answering the adapter's codec ops, to check it against the catalogue |

Several module names (`slot`, `request`, `response`, `layout`, `bootstrap`, `errors`) repeat those
of `gossamer/` on purpose: both follow SPEC.md's sections, so the oracle's reading of a section sits
in the module of the same name as the reference's, and a reviewer compares them side by side.
"""

from . import bootstrap, cbor, codes, files, frames, ids, layout, request, response, slot
from .errors import Rejected

__all__ = ["Rejected", "bootstrap", "cbor", "codes", "files", "frames", "ids", "layout", "request", "response",
           "slot"]
