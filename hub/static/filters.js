/* The preview's filters in a panel that folds away on phones (issue 17): open on wider screens, closed below
   the phone breakpoint of site.css (37.5rem), opened and closed by the "Filters" button (a real <button>, so
   Enter and Space work, with aria-expanded telling its state). Without JavaScript the button stays hidden and
   every filter stays shown. */
(function () {
  "use strict";
  var button = document.getElementById("filters-toggle");
  var section = document.getElementById("preview");
  if (!button || !section || !window.matchMedia) { return; }
  function show(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    section.classList.toggle("filters-closed", !open);
  }
  button.hidden = false;
  show(!window.matchMedia("(max-width: 37.5rem)").matches);
  button.addEventListener("click", function () { show(button.getAttribute("aria-expanded") !== "true"); });
}());
