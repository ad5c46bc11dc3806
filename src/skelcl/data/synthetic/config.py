"""The generator's configuration, its version and the class list."""

from __future__ import annotations

from dataclasses import dataclass

GENERATOR_VERSION = 2  # bump when the generated data changes, so cached copies are not reused

CLASS_NAMES: list[str] = [
    "wave_right_hand", "wave_left_hand", "kick_right_leg", "kick_left_leg", "clap_hands", "rub_hands", "squat",
    "sit_down", "stand_up", "jump_up", "bow", "pick_up", "drink_water", "brush_teeth", "phone_call", "salute",
    "touch_head", "cheer_up", "throw", "punch_forward", "arm_circles",
    # two-person interactions (body slot 2 = the partner)
    "handshake", "push_other", "hug", "pass_object", "punch_other", "kick_other", "walk_towards", "walk_apart",
]
TWO_PERSON: frozenset[str] = frozenset(CLASS_NAMES[21:])
CAMERA_YAW_DEG = (0.0, -45.0, 45.0)  # camera 1, 2, 3


@dataclass
class SyntheticConfig:
    """What to generate. Every field takes part in the cache key of `ensure_synthetic`."""

    num_subjects: int = 40
    num_classes: int = len(CLASS_NAMES)  # the first `num_classes` of CLASS_NAMES
    cameras: int = 3  # 1..3: camera 1 (0 deg), 2 (-45 deg), 3 (+45 deg)
    repeats: int = 1  # replications (R) per subject and class
    seed: int = 0
    max_frames: int = 150  # T stored
    min_frames: int = 30
    num_setups: int = 5  # camera rigs (distance, height); subject s uses setup 1 + (s - 1) % num_setups
    noise_std: float = 0.008  # metres, typical sensor jitter (varies per sample 0.5x..1.5x)
    drop_prob: float = 0.25  # chance that a recording has 1-3 dropped (all-zero) frames
    corrupt_prob: float = 0.2  # chance that a recording has 1-2 frames where one joint jumps
    camera_pitch_deg: float = 0.0  # each setup's cameras are tilted by up to +-this about their x axis
    camera_roll_deg: float = 0.0  # ... and rolled by up to +-this about their optical axis
    warp: float = 0.15  # per recording, camera-space points go through I + A, A's entries uniform in +-warp

    def validate(self) -> None:
        if not 1 <= self.num_classes <= len(CLASS_NAMES):
            raise ValueError(f"num_classes must be in 1..{len(CLASS_NAMES)}, got {self.num_classes}")
        if not 1 <= self.cameras <= 3:
            raise ValueError(f"cameras must be in 1..3, got {self.cameras}")
        if self.num_subjects < 1 or self.repeats < 1 or self.num_setups < 1:
            raise ValueError("num_subjects, repeats and num_setups must be >= 1")
        if not 2 <= self.min_frames <= self.max_frames:
            raise ValueError(f"need 2 <= min_frames <= max_frames, got {self.min_frames}, {self.max_frames}")
