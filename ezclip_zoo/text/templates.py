"""Prompt templates: where a class text goes in a sentence the text tower reads."""

from __future__ import annotations

__all__ = ["ACTIONCLIP_TEMPLATES", "TEMPLATE_SETS"]

# The 16 templates of ActionCLIP's `text_prompt`, which the EZ-CLIP reference code inherits; at test time the
# softmax over classes is averaged over them.
ACTIONCLIP_TEMPLATES = (
    "a photo of action {}",
    "a picture of action {}",
    "Human action of {}",
    "{}, an action",
    "{} this is an action",
    "{}, a video of action",
    "Playing action of {}",
    "{}",
    "Playing a kind of action, {}",
    "Doing a kind of action, {}",
    "Look, the human is {}",
    "Can you recognize the action of {}?",
    "Video classification of {}",
    "A video of {}",
    "The man is {}",
    "The woman is {}",
)

TEMPLATE_SETS = {"actionclip": ACTIONCLIP_TEMPLATES, "plain": ("{}",)}
