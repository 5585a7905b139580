"""Vision: ask nous-hermes-2-vision-7b on APIpie about an image, from LangChain and from LlamaIndex.

    python examples/vision.py [image-url]

Images travel as OpenAI `image_url` content parts (a URL or a `data:` URI); the catalog knows which Hermes
models take images, and sending one to a text-only model fails with a clear error before any request.
"""

from __future__ import annotations

import sys

from _replay import replaying
from langchain_core.messages import HumanMessage
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, TextBlock

from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes

MODEL = "nous-hermes-2-vision-7b"
IMAGE_URL = "https://upload.wikimedia.org/wikipedia/commons/3/3f/Simple_flowchart_example.png"
QUESTION = "What does this image show?"


def main(image_url: str) -> None:
    llm = ChatHermes(model=MODEL, gateway="apipie", max_tokens=200)
    message = HumanMessage(
        content=[
            {"type": "text", "text": QUESTION},
            {"type": "image_url", "image_url": {"url": image_url}},
        ]
    )
    print("LangChain: ", llm.invoke([message]).content)

    li_llm = Hermes(model=MODEL, gateway="apipie", max_tokens=200)
    li_message = ChatMessage(role="user", blocks=[TextBlock(text=QUESTION), ImageBlock(url=image_url)])
    print("LlamaIndex:", li_llm.chat([li_message]).message.content)


if __name__ == "__main__":
    with replaying("vision", gateways=("apipie",)):
        main(sys.argv[1] if len(sys.argv) > 1 else IMAGE_URL)
