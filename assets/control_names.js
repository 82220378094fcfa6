// Accessible names for the parts of Dash's controls that come without one. The range slider's
// two number boxes are named after their filter as the start and the end of the range (a screen
// reader would hear "edit text"); a dropdown button in a labelled control (the filters, Explore's
// choices) reads the control's label before its value ("Gender Any" rather than "Any").
(function () {
  var ENDS = [["dash-range-slider-min-input", "from"], ["dash-range-slider-max-input", "to"]];

  function setOnce(element, attribute, value) {
    if (element.getAttribute(attribute) !== value) {
      element.setAttribute(attribute, value);
    }
  }

  function nameControl(control) {
    var labelId = control.getAttribute("aria-labelledby");
    var label = labelId && document.getElementById(labelId);
    if (!label) {
      return;
    }
    ENDS.forEach(function (end) {
      var box = control.querySelector("input." + end[0]);
      if (box) {
        // the page gives the two words in its language (data-from, data-to on the control)
        setOnce(box, "aria-label", label.textContent.trim() + ", " + (control.getAttribute("data-" + end[1]) || end[1]));
      }
    });
    var button = control.querySelector("button.dash-dropdown");
    if (button) {
      if (!button.id) {
        button.id = labelId + "-button";
      }
      setOnce(button, "aria-labelledby", labelId + " " + button.id);
    }
  }

  function nameControls() {
    document.querySelectorAll(".filter[aria-labelledby], .explore-control[aria-labelledby]").forEach(nameControl);
  }

  new MutationObserver(nameControls).observe(document.documentElement, {childList: true, subtree: true});
})();
