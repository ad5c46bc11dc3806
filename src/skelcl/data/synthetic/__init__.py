"""A procedurally generated skeleton action dataset, so skelcl runs end to end with zero setup (`dataset=synthetic`).

Real benchmarks (NTU, N-UCLA, PKU-MMD) need a licence, a download and a preparation step; this module writes a small
dataset in the same prepared format and the same NTU 25-joint layout, so every method, augmentation and evaluation
protocol can be exercised (and compared) in minutes on a laptop.

How a sample is built:

1. Body model. Each subject gets its own bone lengths (height, torso/arm/leg proportions, shoulder and hip width)
   and posture style (slouch, head tilt, how the arms hang, amplitude of movement). Poses are joint angles (degrees)
   on a kinematic tree rooted at the spine base; forward kinematics gives the 25 NTU joints in a body frame
   (x = the body's right, y = up, the body faces -z). Bones are rigid, so every NTU bone keeps its length over time.
2. Actions (`CLASS_NAMES`). Each class is a smooth joint-angle trajectory over the action's progress u in [0, 1]:
   key poses eased into each other, plus oscillations for periodic actions (1-3 cycles). Confusable pairs share
   everything but their defining detail: left-hand classes are exact mirrors of right-hand ones, `stand_up` is
   `sit_down` played backwards, `clap_hands`/`rub_hands` and `drink_water`/`brush_teeth` use the same arm posture and
   differ only in the hand movement. Eight classes are two-person interactions (body slot 2 is the partner, who is
   another subject from the same cross-subject side); single-person classes leave slot 2 all zeros, as NTU does.
   The feet are pinned to the floor (the root height and, for non-walking actions, the stance foot position follow
   from the legs), so squats, jumps and sitting move the body as they should.
3. Per performance: length 30-150 frames drawn independently of the class (log-uniform), start/end pauses, a
   monotone time warp (speed changes), amplitude and timing jitter, facing direction (within +-60 deg of camera 1),
   position and a slow drift, small idle movements of the whole body and, often, an incidental gesture of an arm
   the action does not use. These nuisances are what a good representation has to see through.
4. Cameras, like NTU: every performance is recorded at once by up to three Kinect-like cameras around the subject:
   camera 1 at 0 deg (in front), camera 2 at -45 deg, camera 3 at +45 deg of yaw; each of `num_setups` setups
   has its own camera distance (about 2.5-3.5 m) and height, with small per-recording changes. Coordinates are in
   camera space in metres (x right, y up, z depth), not normalised. Each camera adds its own sensor noise: Gaussian
   jitter (larger on hand tips/thumbs), occasional dropped frames (all zeros) and corrupt frames (one joint jumps).
5. Skeleton-fit distortion (version 2): every recording passes through its own fixed linear map I + A about the
   body (A's entries uniform in +-`warp`, 0.15 by default), standing in for the calibration and body-build errors
   of a depth sensor's skeleton fit. It is what makes the data separate representations: a random encoder reads
   the distorted recording as a different pose, while training for invariance to the shear augmentation sees
   through it. Optional camera tilt
   (`camera_pitch_deg`, `camera_roll_deg`, per setup; 0 by default) adds the same kind of nuisance as a rotation.

Splits follow NTU: `xsub_*` (odd subject ids train, even ids test) and `xview_*` (cameras 2 and 3 train, camera 1
test). Names read `SsssCcccPpppRrrrAaaa` (setup, camera, performer, replication, 1-based action). Everything is
drawn from `numpy.random.default_rng` seeded by (seed, stream), so the same config gives byte-identical arrays.

Modules, in the order a sample is built: config, body, actions, performance, cameras, dataset.
"""

from skelcl.data.synthetic.actions import ACTIONS
from skelcl.data.synthetic.config import CLASS_NAMES, GENERATOR_VERSION, TWO_PERSON, SyntheticConfig
from skelcl.data.synthetic.dataset import config_hash, ensure_synthetic, generate_synthetic

__all__ = ["ACTIONS", "CLASS_NAMES", "GENERATOR_VERSION", "TWO_PERSON", "SyntheticConfig", "config_hash",
           "ensure_synthetic", "generate_synthetic"]
