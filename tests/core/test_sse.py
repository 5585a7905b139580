"""The SSE line state machine: line endings, comments, multi-line data, fields, and arbitrary byte splits."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_gateway._sse import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.finish())
    return events


def datas(*chunks: bytes) -> list[str]:
    return [event.data for event in decode(*chunks)]


def test_one_event_per_blank_line() -> None:
    assert datas(b"data: a\n\ndata: b\n\n") == ["a", "b"]


def test_comment_lines_are_skipped() -> None:
    body = b": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\ndata: {}\n\n"
    assert datas(body) == ["{}"]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert datas(b"data: first\ndata: second\ndata:\n\n") == ["first\nsecond\n"]


def test_crlf_cr_and_lf_all_end_lines() -> None:
    assert datas(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n") == ["a", "b", "c"]


def test_crlf_split_between_chunks_is_one_line_break() -> None:
    # A CR at the end of one chunk and the LF at the start of the next must not make a blank line.
    assert datas(b"data: a\r", b"\ndata: b\r\n", b"\r\n") == ["a\nb"]


def test_field_without_space_and_event_id_retry_fields() -> None:
    [event] = decode(b'event: error\nid: 7\nretry: 1500\ndata:{"x":1}\n\n')
    assert event == ServerSentEvent(data='{"x":1}', event="error", id="7", retry=1500)


def test_data_line_without_colon_is_an_empty_data_line() -> None:
    assert datas(b"data\ndata: x\n\n") == ["\nx"]


def test_blank_lines_without_data_dispatch_nothing() -> None:
    assert datas(b"\n\n\r\n: ping\n\n") == []


def test_finish_dispatches_an_event_missing_its_blank_line() -> None:
    assert datas(b"data: a\n\ndata: [DONE]") == ["a", "[DONE]"]
    assert datas(b"data: a\n\ndata: [DONE]\n") == ["a", "[DONE]"]


def test_utf8_split_inside_a_character() -> None:
    raw = "data: héllo ✓\n\n".encode()
    cut = raw.index("✓".encode()) + 1
    assert datas(raw[:cut], raw[cut:]) == ["héllo ✓"]


def test_byte_order_mark_is_dropped() -> None:
    assert datas(b"\xef\xbb\xbfdata: a\n\n") == ["a"]


def test_a_long_line_fed_byte_by_byte_is_linear() -> None:
    payload = b"x" * 200_000
    raw = b"data: " + payload + b"\n\n"
    decoder = SSEDecoder()
    started = time.perf_counter()
    events = []
    for i in range(0, len(raw), 7):
        events.extend(decoder.feed(raw[i : i + 7]))
    elapsed = time.perf_counter() - started
    assert [len(e.data) for e in events] == [len(payload)]
    assert elapsed < 2.0  # quadratic buffering (data += piece) takes far longer for 28k pieces


BODY = (
    b": OPENROUTER PROCESSING\r\n\r\n"
    b'data: {"a": "\xc3\xa9"}\n\n'
    b"event: message\nid: 1\ndata: line one\ndata: line two\r\n\r\n"
    b"data: three\r\rdata: [DONE]\n\n"
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(BODY)), max_size=12))
def test_any_split_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    pieces = [BODY[a:b] for a, b in zip([0, *points], [*points, len(BODY)], strict=False)]
    assert decode(*pieces) == decode(BODY)
    assert [e.data for e in decode(BODY)] == ['{"a": "é"}', "line one\nline two", "three", "[DONE]"]


def decode_bytewise(body: bytes) -> list[ServerSentEvent]:
    """The reference: one byte per read never ends a read with a blank line, so only the line machine runs."""
    return decode(*(body[i : i + 1] for i in range(len(body))))


BLOCKS = [
    b'data: {"choices": [{"delta": {"content": "x"}}]}\n\n',
    b"data: \xc3\xa9\xe2\x9c\x93\n\n",  # non-ASCII
    b"data: bad \xe2\x9c utf8\n\n",  # an invalid sequence in the middle of a read
    b"data:no space\n\n",
    b"data: \n\n",
    b": OPENROUTER PROCESSING\n\n",
    b"data: a\ndata: b\n\n",  # multi-line data
    b"event: error\ndata: {}\n\n",
    b"event: ping\n\n",  # an event name with no data: reset by the blank line
    b"event: late\n",  # an event name left open across the read boundary
    b"id: 7\nretry: 100\n\n",
    b"data: crlf\r\n\r\n",
    b"data: cr\r\r",
    b"\n\n",  # a run of blank lines
    b"\n",
    b"data: open",  # a line left open across the read boundary
    b"data: [DONE]\n\n",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=12),
    st.lists(st.booleans(), max_size=12),
    st.lists(st.integers(min_value=0, max_value=400), max_size=3),
    st.booleans(),
)
def test_whole_event_reads_give_what_the_line_machine_gives(
    blocks: list[bytes], joins: list[bool], cuts: list[int], bom: bool
) -> None:
    # Reads made of whole blocks (the fast path's case) and a few arbitrary cuts must decode exactly as the
    # same bytes fed one at a time.
    reads: list[bytes] = [b"\xef\xbb\xbf" if bom else b""]
    for i, block in enumerate(blocks):
        if i < len(joins) and joins[i]:
            reads[-1] += block
        else:
            reads.append(block)
    body = b"".join(reads)
    for cut in sorted(set(cuts)):
        at = 0
        for j, read in enumerate(reads):
            if at + len(read) > cut > at:
                reads[j : j + 1] = [read[: cut - at], read[cut - at :]]
                break
            at += len(read)
    assert decode(*reads) == decode_bytewise(body)
    assert decode(body) == decode_bytewise(body)


def test_a_read_ending_in_three_line_feeds_ends() -> None:
    # "\n\n\n": after the first blank line only one "\n" is left, which holds no "\n\n" (this once looped).
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\n")
    assert decoder.feed(b"data: b\n\n\n") == [ServerSentEvent(data="b")]
    assert decoder.feed(b"event: x\n\n\ndata: c\n\n") == [ServerSentEvent(data="c")]
    assert decode(b"data: a\n\n", b"data: b\n\n\n", b"data: c\n\n") == decode_bytewise(
        b"data: a\n\ndata: b\n\n\ndata: c\n\n"
    )


def test_one_event_per_read_takes_the_fast_path_and_matches_the_line_machine() -> None:
    reads = [b": OPENROUTER PROCESSING\n\n"] + [b'data: {"n": %d}\n\n' % i for i in range(50)]
    reads += [b"event: error\ndata: {}\n\n", b"data: crlf\r\n\r\n", b"id: 9\n\n", b"data: after\n\n"]
    decoder = SSEDecoder()
    decoder.feed(reads[0])
    assert decoder._pristine  # the next whole-event read takes the fast path
    assert decode(*reads) == decode_bytewise(b"".join(reads))
    assert decode(*reads)[-1] == ServerSentEvent(data="after", id="9")
