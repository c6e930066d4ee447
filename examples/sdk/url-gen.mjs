// Point the official Cloudinary JavaScript SDK (@cloudinary/url-gen) at a pixcast server.
//
// Code written for Cloudinary keeps working: the SDK builds its usual delivery URLs and
// pixcast serves them. Only the configuration changes.
//
//   cd examples/sdk && npm install && node url-gen.mjs [http://127.0.0.1:8080]
import { Cloudinary } from "@cloudinary/url-gen";
import { fill, scale, thumbnail } from "@cloudinary/url-gen/actions/resize";
import { max } from "@cloudinary/url-gen/actions/roundCorners";
import { sepia } from "@cloudinary/url-gen/actions/effect";
import { format, quality } from "@cloudinary/url-gen/actions/delivery";
import { auto as autoFormat, png } from "@cloudinary/url-gen/qualifiers/format";
import { auto as autoQuality } from "@cloudinary/url-gen/qualifiers/quality";
import { focusOn } from "@cloudinary/url-gen/qualifiers/gravity";
import { face } from "@cloudinary/url-gen/qualifiers/focusOn";

const server = new URL(process.argv[2] || "http://127.0.0.1:8080");

// pixcast serves /<cloudName>/image/upload/..., the form the SDK writes for a secure
// distribution (https) or a CNAME (http). analytics: false keeps the SDK's `?_a=`
// tracking parameter off the URLs (pixcast would ignore it anyway).
const cld = new Cloudinary({
  cloud: { cloudName: "demo" },
  url: {
    secure: server.protocol === "https:",
    secureDistribution: server.host,
    cname: server.host,
    analytics: false,
  },
});

const examples = {
  "face thumbnail": cld
    .image("astronaut")
    .resize(thumbnail().width(200).height(200).gravity(focusOn(face())))
    .roundCorners(max())
    .delivery(format(png())),
  "responsive hero": cld
    .image("sample")
    .resize(fill().width(1200).aspectRatio("16:9"))
    .delivery(quality(autoQuality()))
    .delivery(format(autoFormat())),
  "sepia card": cld.image("dogs.jpg").resize(fill().width(400).height(300)).effect(sepia(60)),
  "scaled fig": cld.image("fig").resize(scale().width(300)),
};

for (const [name, image] of Object.entries(examples)) {
  console.log(`${name.padEnd(16)} ${image.toURL()}`);
}
