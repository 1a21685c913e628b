"""Write the tutorial notebooks, English and Korean, from one list of cells.

``python docs/_tools/make_notebooks.py`` rewrites ``docs/notebooks/tutorial.en.ipynb`` and
``docs/notebooks/tutorial.ko.ipynb`` without outputs; the documentation build executes them (on
the data ``FASHIONKIT_DATA_DIR`` names) and shows them with their outputs. Both share the code
cells, so they cannot drift apart; only the prose is translated. ``--check`` exits 1 when the
files differ from what this script writes (the test suite runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "notebooks"

#: (English prose, Korean prose) or a code cell's source.
CELLS: list[tuple[str, str] | str] = [
    (
        "# Fashion-MNIST with fashionkit: the tutorial as a notebook\n\n"
        "Run the cells from top to bottom (about a minute on two CPU cores), then change them: "
        "every cell is plain Python on fashionkit's API. The steps follow the tutorial: load "
        "the data, scale it, a scikit-learn baseline, a one-layer Keras model, its evaluation, "
        "and what the model looks at. [Download this notebook](tutorial.en.ipynb) "
        "(or the [Korean one](tutorial.ko.ipynb)) and open it in Jupyter, VS Code or Colab "
        "after `pip install fashionkit[plot]`.",
        "# fashionkit로 배우는 Fashion-MNIST: 노트북으로 보는 튜토리얼\n\n"
        "셀을 위에서 아래로 차례로 실행한 다음(CPU 코어 두 개에서 1분쯤), 마음대로 바꿔 보세요. "
        "모든 셀은 fashionkit API를 쓰는 평범한 파이썬 코드입니다. 순서는 튜토리얼과 같습니다: "
        "데이터 불러오기, 스케일 조정, scikit-learn 기준 모델, 한 층짜리 Keras 모델, 평가, "
        "그리고 모델이 이미지의 어디를 보는지. [이 노트북을 내려받아](tutorial.ko.ipynb) "
        "(또는 [영어판](tutorial.en.ipynb)) `pip install fashionkit[plot]` 후 Jupyter, "
        "VS Code, Colab에서 여세요.",
    ),
    (
        "## 1. Load the data\n\n60,000 training and 10,000 test images of 28 x 28 pixels, "
        "with labels 0 to 9. `load_fashion_mnist()` downloads them once and checks their "
        "checksums (or reads the folder `FASHIONKIT_DATA_DIR` names).",
        "## 1. 데이터 불러오기\n\n28 x 28 픽셀 이미지가 훈련용 60,000개, 테스트용 10,000개이고 "
        "레이블은 0부터 9까지입니다. `load_fashion_mnist()`는 파일을 한 번 내려받아 체크섬을 "
        "확인합니다(`FASHIONKIT_DATA_DIR`가 가리키는 폴더가 있으면 거기서 읽습니다).",
    ),
    "import numpy as np\n"
    "import fashionkit\n\n"
    "data = fashionkit.load_fashion_mnist()\n"
    "print(data.train.images.shape, data.train.labels.shape)\n"
    "print(data.test.images.shape, data.test.labels.shape)\n"
    "print(dict(zip(fashionkit.CLASS_NAMES, np.bincount(data.train.labels).tolist())))",
    (
        "Every class has exactly 6,000 training images. The first ten, with their names:",
        "클래스마다 훈련 이미지가 정확히 6,000개입니다. 처음 열 개와 그 이름:",
    ),
    "import matplotlib.pyplot as plt\n\n"
    "figure, axes = plt.subplots(1, 10, figsize=(10, 1.6), layout='constrained')\n"
    "for i, ax in enumerate(axes):\n"
    "    ax.imshow(data.train.images[i], cmap='gray_r')\n"
    "    ax.set_title(fashionkit.CLASS_NAMES[data.train.labels[i]], fontsize=8)\n"
    "    ax.axis('off')\n"
    "plt.show()",
    (
        "## 2. Scale and flatten\n\nPixels go from 0..255 to 0..1 and each image becomes a "
        "row of 784 features, the input of a dense model.",
        "## 2. 스케일 조정과 펼치기\n\n픽셀 값을 0..255에서 0..1로 바꾸고, 이미지 하나를 "
        "특성 784개짜리 행 하나로 펼칩니다. 밀집 모델의 입력입니다.",
    ),
    "x = fashionkit.prepare_images(data.train.images)\nx.shape, float(x.min()), float(x.max())",
    (
        "## 3. A scikit-learn baseline\n\nLogistic regression trained by `SGDClassifier` "
        "(`max_iter=5`), scored by 5-fold cross-validation; the tutorial reports 0.8196.",
        "## 3. scikit-learn 기준 모델\n\n`SGDClassifier`(`max_iter=5`)로 학습한 로지스틱 "
        "회귀를 5-폴드 교차 검증으로 평가합니다. 튜토리얼의 결과는 0.8196입니다.",
    ),
    "base = fashionkit.baseline(data)\nround(base.mean, 4)",
    (
        "## 4. The tutorial's Keras model, trained live\n\n`TrainConfig()` is the tutorial: "
        "one `Dense(10, softmax)` layer on the 784 features, sparse categorical cross-entropy, "
        "5 epochs of 1,500 batches of 32, with 20% of the training images held out for "
        "validation. `live=True` redraws the learning curves under the cell after every epoch.",
        "## 4. 튜토리얼의 Keras 모델을 실시간으로 훈련하기\n\n`TrainConfig()`가 튜토리얼 "
        "그대로입니다: 특성 784개 위에 `Dense(10, softmax)` 층 하나, 희소 범주형 "
        "크로스엔트로피, 배치 32개씩 1,500번을 5 에포크, 훈련 이미지의 20%는 검증용으로 "
        "남깁니다. `live=True`는 에포크가 끝날 때마다 셀 아래의 학습 곡선을 다시 그립니다.",
    ),
    "result = fashionkit.train(fashionkit.TrainConfig(verbose=0), dataset=data, live=True)\nresult",
    (
        "## 5. Evaluate\n\nPer-class precision, recall and F1 on the test split, and the "
        "confusion matrix: shirts, T-shirts, pullovers and coats are the classes it mixes up.",
        "## 5. 평가\n\n테스트 세트에서 클래스별 정밀도, 재현율, F1과 오차 행렬입니다. 셔츠, "
        "티셔츠, 스웨터, 코트를 서로 헷갈립니다.",
    ),
    "result.test",
    (
        "## 6. What did the model look at?\n\nThe most confident mistakes, each beside its "
        "saliency map (the gradient of the chosen class's score with respect to each pixel; "
        "`fashionkit.explain` chooses Grad-CAM for convolutional models).",
        "## 6. 모델은 어디를 보았을까?\n\n가장 자신 있게 틀린 이미지들과 각각의 돌출 맵"
        "(saliency map: 고른 클래스의 점수를 각 픽셀로 미분한 값)입니다. 합성곱 모델이면 "
        "`fashionkit.explain`이 Grad-CAM을 고릅니다.",
    ),
    "from fashionkit.explain import explain\n"
    "from fashionkit.plots import plot_explanations\n\n"
    "probabilities = fashionkit.predict(result.model, data.test.images).probabilities\n"
    "wrong = np.flatnonzero(probabilities.argmax(axis=1) != data.test.labels)\n"
    "worst = wrong[np.argsort(-probabilities[wrong].max(axis=1))][:8]\n"
    "shown = explain(result.model, data.test.images[worst])\n"
    "plot_explanations(data.test.images[worst], shown, fashionkit.CLASS_NAMES,\n"
    "                  labels=data.test.labels[worst])",
    (
        "## 7. Now change it\n\n- Train a convolutional network: "
        "`fashionkit.train(fashionkit.presets.get_preset('fast'), live=True)` (about 0.92 test "
        "accuracy, a minute or two on a CPU) and explain it again: the maps become Grad-CAM.\n"
        "- One-hot labels: `TrainConfig(loss=fashionkit.LossConfig(encoding='one_hot'))`.\n"
        "- More epochs, another optimizer: `TrainConfig(epochs=10, optimizer={'name': "
        "'adam'})`.",
        "## 7. 이제 바꿔 보세요\n\n- 합성곱 신경망 훈련: "
        "`fashionkit.train(fashionkit.presets.get_preset('fast'), live=True)` (테스트 정확도 "
        "약 0.92, CPU에서 1~2분). 다시 설명해 보면 맵이 Grad-CAM으로 바뀝니다.\n"
        "- 원-핫 레이블: `TrainConfig(loss=fashionkit.LossConfig(encoding='one_hot'))`.\n"
        "- 에포크를 늘리거나 옵티마이저 바꾸기: `TrainConfig(epochs=10, optimizer={'name': "
        "'adam'})`.",
    ),
]


def notebook(language: int) -> dict[str, object]:
    """The notebook in language 0 (English) or 1 (Korean), without outputs."""
    cells: list[dict[str, object]] = []
    for cell in CELLS:
        if isinstance(cell, tuple):
            cells.append({
                "cell_type": "markdown",
                "id": f"cell-{len(cells)}",
                "metadata": {},
                "source": cell[language],
            })  # fmt: skip
        else:
            cells.append({
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{len(cells)}",
                "metadata": {},
                "outputs": [],
                "source": cell,
            })  # fmt: skip
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def render(language: int) -> str:
    """The notebook's file text."""
    return json.dumps(notebook(language), ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) both notebooks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are stale")
    args = parser.parse_args(argv)
    stale = []
    for language, name in ((0, "tutorial.en.ipynb"), (1, "tutorial.ko.ipynb")):
        path, text = OUT / name, render(language)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
            continue
        OUT.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}; run python docs/_tools/make_notebooks.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
